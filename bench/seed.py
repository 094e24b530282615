"""Seed a benchmark database: the guide plus N approved comments (run with manage.py shell)."""

import os
import random

from django.core.management import call_command
from django.utils import timezone

from articles.management.commands.load_guide import GUIDE_SLUG
from articles.models import Article
from comments.models import Comment

count = int(os.environ.get("BENCH_COMMENTS", "50"))
call_command("load_guide", verbosity=0)
guide = Article.objects.get(slug=GUIDE_SLUG)
Comment.objects.filter(article=guide).delete()
rng = random.Random(42)
now = timezone.now()
roots = []
for n in range(count):
    parent = rng.choice(roots) if roots and rng.random() < 0.3 else None
    comment = Comment(
        article=guide,
        parent=parent,
        name=f"Reader {n}",
        email=f"reader{n}@example.net",
        website="https://example.org/" if n % 5 == 0 else "",
        body=(
            f"Comment {n}: I was on {rng.choice([20, 30, 40])} mg for {rng.randint(3, 9)} months.\n"
            "Dry lips were the worst part; see https://example.org/lip-care for tips."
        ),
        status=Comment.Status.APPROVED,
        created_at=now,
    )
    comment.save()
    if parent is None or parent.depth < 1:
        roots.append(comment)
print(f"seeded {count} approved comments on {guide.get_absolute_url()}")
