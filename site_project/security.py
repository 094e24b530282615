"""The Content-Security-Policy, strict on public pages.

Public pages run no inline script or style at all. The Django admin (and the
markdownx editor in it) keeps scripts to 'self' too, but its templates and
widgets set a few inline style attributes, so style-src is relaxed there only.
"""

from csp.middleware import CSPMiddleware

ADMIN_PREFIXES = ("/admin/", "/admin-tools/")


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only=report_only)
        if not report_only and request.path_info.startswith(ADMIN_PREFIXES):
            parts.update = {**(parts.update or {}), "style-src": ["'unsafe-inline'"]}
        return parts
