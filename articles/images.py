"""Images editors upload: checked, re-encoded and measured here, whatever the form.

Every upload (an image in an article's text, a featured image) goes through
`clean_upload()`: Pillow must recognise it as a JPEG or PNG by its bytes, and
it is then drawn again from its pixels. The stored file keeps nothing of the
original but the picture and its colour profile: no EXIF (so no GPS position,
camera serial or date), no XMP, no comments. The camera's orientation is
applied to the pixels first, and the longest side is brought down to
MAX_STORED_SIDE, which is more than any page shows.
"""

import io
import uuid
import warnings
from dataclasses import dataclass
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageOps, UnidentifiedImageError

# Pillow's own format names, and the extension each is stored under.
ALLOWED_IMAGE_FORMATS = {"JPEG": "jpg", "PNG": "png"}
MAX_IMAGE_PIXELS = 40_000_000
MAX_STORED_SIDE = 2000
JPEG_QUALITY = 85
# Modes a PNG may be saved in as they are; anything else (16-bit, CMYK…) becomes RGBA.
_PNG_MODES = {"1", "L", "LA", "P", "RGB", "RGBA"}


class ImageRefused(ValueError):
    """An upload that is not an image we store; the message is for the editor."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    extension: str
    width: int
    height: int

    @property
    def filename(self):
        """A fresh name of ours: never the client's name or extension."""
        return f"{uuid.uuid4().hex}.{self.extension}"


def clean_upload(upload):
    """The upload re-encoded without metadata, upright and at most MAX_STORED_SIDE px, or ImageRefused."""
    limit = settings.MARKDOWNX_UPLOAD_MAX_SIZE
    if upload.size > limit:
        raise ImageRefused(
            f"The image is too large: the limit is {limit // (1024 * 1024)} MB.", status=413
        )
    upload.seek(0)
    data = upload.read()
    try:
        with warnings.catch_warnings():
            # Pillow only warns below twice its own limit; far above ours either way.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                image_format = probe.format
                width, height = probe.size
                probe.verify()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ImageRefused("The image has too many pixels; scale it down first.") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise ImageRefused("This file is not a JPEG or PNG image, or it is damaged.") from None
    extension = ALLOWED_IMAGE_FORMATS.get(image_format)
    if extension is None:
        raise ImageRefused(f"Only JPEG and PNG images are accepted, not {image_format}.")
    if width * height > MAX_IMAGE_PIXELS:
        raise ImageRefused("The image has too many pixels; scale it down first.")
    try:
        return _reencode(data, image_format, extension)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        # verify() checks the structure; a few damaged files only fail when decoded.
        raise ImageRefused("This file is not a JPEG or PNG image, or it is damaged.") from None


def cleaned_form_upload(image):
    """For a form's ImageField: a new upload becomes its cleaned copy; anything else is kept.

    Raises ValidationError for a file we do not store (the form shows the message).
    """
    if not image or not hasattr(image, "content_type"):
        return image  # unchanged, cleared, or nothing chosen
    try:
        cleaned = clean_upload(image)
    except ImageRefused as refused:
        raise ValidationError(str(refused)) from None
    # Stored re-encoded, without the original's metadata, under a name of ours.
    return SimpleUploadedFile(cleaned.filename, cleaned.data, f"image/{cleaned.extension}")


def _reencode(data, image_format, extension):
    with Image.open(io.BytesIO(data)) as original:
        original.load()
        icc_profile = original.info.get("icc_profile")
        image = ImageOps.exif_transpose(original)
    image.thumbnail((MAX_STORED_SIDE, MAX_STORED_SIDE), Image.Resampling.LANCZOS)
    if image_format == "JPEG":
        image = image.convert("RGB") if image.mode != "RGB" else image
        options = {"quality": JPEG_QUALITY, "optimize": True, "progressive": True}
    else:
        image = image.convert("RGBA") if image.mode not in _PNG_MODES else image
        options = {"optimize": True}
    # Whatever Pillow read with the pixels (EXIF, XMP, comments, text chunks)
    # would otherwise be written back; only transparency and the colour profile are kept.
    image.info = {key: value for key, value in image.info.items() if key == "transparency"}
    if icc_profile:
        options["icc_profile"] = icc_profile
    out = io.BytesIO()
    image.save(out, format=image_format, **options)
    return CleanImage(out.getvalue(), extension, image.width, image.height)


def upload_path(filename):
    """Where an uploaded image is stored: the one folder serve_uploaded_image() serves."""
    return f"{settings.MARKDOWNX_MEDIA_PATH}{filename}"


def is_stored_name(name):
    """A file name (no folder) that can be one of our uploads."""
    return "/" not in name and name.rpartition(".")[2] in ALLOWED_IMAGE_FORMATS.values()


# Sizes of stored uploads, by name. Names are random and files never change,
# so a size once read stays true; a missing file is not remembered.
_sizes = {}


def stored_image_size(src):
    """(width, height) of an uploaded image from its URL, or None for any other address."""
    prefix = f"{settings.MEDIA_URL}{settings.MARKDOWNX_MEDIA_PATH}"
    if not src or not src.startswith(prefix):
        return None
    name = src[len(prefix) :]
    if not is_stored_name(name):
        return None
    if name not in _sizes:
        try:
            with default_storage.open(upload_path(name)) as stored, Image.open(stored) as image:
                size = image.size
        except (OSError, ValueError, UnidentifiedImageError, Image.DecompressionBombError):
            return None
        if len(_sizes) > 4096:
            _sizes.clear()
        _sizes[name] = size
    return _sizes[name]


def display_name(src):
    """A short name for an image address, for messages to editors."""
    name = PurePosixPath(src.split("?", 1)[0].split("#", 1)[0]).name or src
    return name if len(name) <= 80 else f"{name[:77]}…"
