"""Static files: hashed, compressed names once collected, for year-long caching."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """whitenoise's hashed and compressed storage, always, so `collectstatic` writes the manifest.

    Before anything has been collected (a fresh checkout, the test suite) the
    manifest is empty: pages then name the plain files, which whitenoise
    serves from the apps' folders (WHITENOISE_USE_FINDERS), instead of
    failing on every page. Once collected, every name is hashed and
    whitenoise sends it with a ten-year `immutable` lifetime.
    """

    def stored_name(self, name):
        if not self.hashed_files:
            return name
        return super().stored_name(name)
