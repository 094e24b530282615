"""Every refused comment submission is one structured log line: why, on which article, from whom (hashed)."""

import io
import json
import logging

import pytest
from django.urls import reverse

from comments.models import Comment
from site_project.request_limits import CompleteBodyStream, IncompleteBody

READER_IP = "198.51.100.23"
READER_EMAIL = "ada@example.com"


def refusals(caplog):
    return [r for r in caplog.records if getattr(r, "event", None) == "comment_refused"]


def post(client, article, data):
    return client.post(reverse("comments:post", args=[article.pk]), data, REMOTE_ADDR=READER_IP)


@pytest.mark.parametrize(
    ("change", "reason", "fields", "status"),
    [
        ({"honeypot": "http://spam.example"}, "honeypot", ["__all__"], 400),
        ({"email": "not an email", "body": ""}, "invalid", ["body", "email"], 400),
    ],
    ids=["honeypot", "invalid"],
)
def test_a_refused_form_is_logged_once_with_its_reason(
    client, article, comment_form_data, caplog, change, reason, fields, status
):
    caplog.set_level(logging.INFO, logger="comments.submissions")
    data = comment_form_data(article)
    data.update(change)
    assert post(client, article, data).status_code == status

    [record] = refusals(caplog)
    assert record.reason == reason
    assert record.article_id == article.pk
    assert record.fields == fields
    assert record.levelno == logging.INFO and record.name == "comments.submissions"
    assert not Comment.objects.exists()


def test_flood_and_duplicate_refusals_are_logged(
    client, article, comment_form_data, caplog, settings
):
    caplog.set_level(logging.INFO, logger="comments.submissions")
    settings.COMMENTS_FLOOD_LIMIT = 2
    first = comment_form_data(article, body="The same words.")
    assert post(client, article, first).status_code == 302
    assert post(client, article, first).status_code == 400  # the same comment again
    assert post(client, article, comment_form_data(article, body="Third.")).status_code == 429
    assert [r.reason for r in refusals(caplog)] == ["duplicate", "flood"]


def test_a_closed_article_refusal_is_logged(client, make_article, comment_form_data, caplog):
    caplog.set_level(logging.INFO, logger="comments.submissions")
    closed = make_article(allow_comments=False)
    assert post(client, closed, comment_form_data(closed)).status_code == 403
    assert [r.reason for r in refusals(caplog)] == ["closed"]


def test_the_line_is_json_and_names_no_email_or_address(client, article, comment_form_data, caplog):
    """Through the project's own JSON formatter, as operators read it."""
    from pythonjsonlogger.json import JsonFormatter

    caplog.set_level(logging.INFO, logger="comments.submissions")
    data = comment_form_data(article, email=READER_EMAIL, honeypot="filled")
    post(client, article, data)
    post(client, article, data)
    first, second = refusals(caplog)
    line = JsonFormatter("%(levelname)s %(name)s %(message)s").format(first)
    record = json.loads(line)
    assert record["event"] == "comment_refused" and record["reason"] == "honeypot"
    assert record["article_id"] == article.pk and record["fields"] == ["__all__"]
    assert READER_EMAIL not in line and READER_IP not in line and "ada" not in line
    # The same client gets the same hash: repeated attempts can be told apart from many readers.
    assert len(record["client"]) == 16 and record["client"] == second.client


def test_an_accepted_comment_logs_no_refusal(client, article, comment_form_data, caplog):
    caplog.set_level(logging.INFO, logger="comments.submissions")
    assert post(client, article, comment_form_data(article)).status_code == 302
    assert refusals(caplog) == []


# The request body is read whole or not at all (site_project/request_limits.py)


class Trickle(io.BytesIO):
    """A socket-like stream that hands out at most 7 bytes a read."""

    def read(self, size=-1):
        return super().read(7 if size is None or size < 0 else min(size, 7))


def test_a_complete_body_is_read_whole_even_in_small_pieces():
    stream = CompleteBodyStream(Trickle(b"body=hello&name=ada"), 19)
    assert stream.read() == b"body=hello&name=ada"
    assert stream.read() == b""


def test_a_body_shorter_than_announced_raises_instead_of_returning_what_came(caplog):
    stream = CompleteBodyStream(Trickle(b"body=cut off ha"), 40, path="/comments/post/1/")
    with pytest.raises(IncompleteBody):
        stream.read(40)
    [record] = [r for r in caplog.records if getattr(r, "event", None) == "request_incomplete"]
    assert record.missing == 25 and record.path == "/comments/post/1/"


def test_readline_and_reads_past_the_length_stop_at_the_length():
    stream = CompleteBodyStream(io.BytesIO(b"line one\nline two\nEXTRA"), 18)
    assert stream.readline() == b"line one\n"
    assert stream.read(100) == b"line two\n"
    assert stream.read() == b""
