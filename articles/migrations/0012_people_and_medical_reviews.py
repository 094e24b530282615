"""People, medical reviews, pending revisions and the public review history (schema).

Adds the Person model, the review workflow's models and the article's review
state, and a temporary `author_person` beside the old `author` (a user) so
that 0013 can turn each author into a person before 0014 drops the old field.
Kept apart from the data migration: PostgreSQL refuses to alter a table with
updates pending in the same transaction.
"""

import articles.people
import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0011_versions_keep_their_links"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='article',
            name='legacy_review_note',
            field=models.TextField(blank=True, editable=False, help_text='What the free-text reviewer fields said before reviews were recorded: not a verified review.'),
        ),
        migrations.AddField(
            model_name='article',
            name='medical',
            field=models.BooleanField(default=True, help_text='Health information readers may act on: it is published, and its text changed, only after a medical reviewer approves that text (site pages never are).', verbose_name='medical content'),
        ),
        migrations.AddField(
            model_name='article',
            name='reviewed_text_digest',
            field=models.CharField(blank=True, default='', editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name='article',
            name='text_digest',
            field=models.CharField(blank=True, default='', editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name='article',
            name='text_updated_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='historicalarticle',
            name='medical',
            field=models.BooleanField(default=True, help_text='Health information readers may act on: it is published, and its text changed, only after a medical reviewer approves that text (site pages never are).', verbose_name='medical content'),
        ),
        migrations.CreateModel(
            name='MedicalReview',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('status', models.CharField(choices=[('requested', 'Waiting for review'), ('approved', 'Approved'), ('minor', 'Not medically significant'), ('sent_back', 'Sent back'), ('withdrawn', 'Withdrawn')], db_index=True, default='requested', max_length=10)),
                ('requested_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('request_note', models.CharField(blank=True, max_length=500, verbose_name='note for the reviewer')),
                ('decided_at', models.DateTimeField(blank=True, db_index=True, null=True)),
                ('note', models.TextField(blank=True, verbose_name="reviewer's note")),
                ('text_digest', models.CharField(blank=True, editable=False, max_length=64)),
                ('article', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='medical_reviews', to='articles.article')),
                ('decided_by', models.ForeignKey(blank=True, help_text="The reviewer's own account, which recorded the decision.", null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('requested_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('version', models.ForeignKey(blank=True, help_text='The saved version of the article the decision covers.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='articles.historicalarticle')),
            ],
            options={
                'verbose_name': 'medical review',
                'ordering': ['-requested_at', '-id'],
                'permissions': [('record_review', 'Can record their own medical reviews')],
            },
        ),
        migrations.AddField(
            model_name='article',
            name='last_review',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='articles.medicalreview'),
        ),
        migrations.CreateModel(
            name='Person',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('person', 'Person'), ('team', 'The editorial team (an organisation)')], default='person', max_length=10)),
                ('name', models.CharField(help_text='As readers should see it, e.g. “Dr Ada Smith”.', max_length=150)),
                ('slug', models.SlugField(help_text='The address of their page: /people/<slug>/.', max_length=150, unique=True)),
                ('credentials', models.CharField(blank=True, help_text='Post-nominal letters shown after the name, e.g. “MD, FAAD”.', max_length=100)),
                ('role', models.CharField(blank=True, help_text='What they do, e.g. “Consultant dermatologist” or “Health writer”.', max_length=150)),
                ('bio', models.TextField(blank=True, help_text='Plain text, a short paragraph or two: training, experience, interests.', max_length=1500)),
                ('photo', models.ImageField(blank=True, height_field='photo_height', help_text='Optional JPEG or PNG portrait, stored without its metadata.', upload_to=articles.people.photo_path, width_field='photo_width')),
                ('photo_width', models.PositiveIntegerField(blank=True, editable=False, null=True)),
                ('photo_height', models.PositiveIntegerField(blank=True, editable=False, null=True)),
                ('registration', models.CharField(blank=True, help_text='The register and number readers can check, e.g. “GMC 1234567”.', max_length=150, verbose_name='professional registration')),
                ('registration_url', models.URLField(blank=True, help_text='The entry in the public register, if it has an address.', max_length=500, validators=[django.core.validators.URLValidator(schemes=['http', 'https'])], verbose_name='registration link')),
                ('profile_urls', models.TextField(blank=True, help_text='Other public profiles (hospital page, ORCID, LinkedIn…), one address a line.', verbose_name='profile links')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('user', models.OneToOneField(blank=True, help_text='The account that acts as this person in the admin (a reviewer records their reviews with it). Never shown on the site.', limit_choices_to={'is_staff': True}, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='person', to=settings.AUTH_USER_MODEL, verbose_name='staff account')),
            ],
            options={
                'verbose_name_plural': 'people',
                'ordering': ['name'],
            },
        ),
        migrations.AddField(
            model_name='medicalreview',
            name='reviewer',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='reviews', to='articles.person'),
        ),
        migrations.CreateModel(
            name='ReviewHistoryEntry',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('reviewed', 'Medically reviewed'), ('corrected', 'Minor correction, not medically significant'), ('updated', 'Updated without a medical review'), ('published', 'Published without a medical review')], max_length=10)),
                ('at', models.DateTimeField(default=django.utils.timezone.now)),
                ('override', models.BooleanField(default=False, help_text="A superuser (or the site owner's load_guide) let the text out without review.")),
                ('note', models.CharField(blank=True, max_length=200)),
                ('article', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='review_history', to='articles.article')),
                ('by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('review', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='articles.medicalreview')),
                ('version', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='articles.historicalarticle')),
            ],
            options={
                'verbose_name_plural': 'review history entries',
                'ordering': ['-at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='Revision',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('title', models.CharField(max_length=200)),
                ('summary', models.TextField(max_length=300)),
                ('body', models.TextField()),
                ('status', models.CharField(choices=[('pending', 'Waiting for review'), ('applied', 'Applied'), ('withdrawn', 'Withdrawn')], db_index=True, default='pending', max_length=10)),
                ('note', models.CharField(blank=True, max_length=100, verbose_name='note for the history')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('updated_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('closed_at', models.DateTimeField(blank=True, null=True)),
                ('article', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='revisions', to='articles.article')),
                ('created_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('updated_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.AddField(
            model_name='medicalreview',
            name='revision',
            field=models.ForeignKey(blank=True, help_text="The proposed change reviewed; empty: the article's saved text.", null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='reviews', to='articles.revision'),
        ),
        migrations.AddConstraint(
            model_name='person',
            constraint=models.UniqueConstraint(condition=models.Q(('kind', 'team')), fields=('kind',), name='one_editorial_team', violation_error_message='There is one editorial team.'),
        ),
        migrations.AddConstraint(
            model_name='revision',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'pending')), fields=('article',), name='one_pending_revision_per_article'),
        ),
        migrations.AddConstraint(
            model_name='medicalreview',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'requested')), fields=('article',), name='one_open_review_per_article', violation_error_message='A review of this article is already waiting.'),
        ),
        migrations.AddField(
            model_name='article',
            name='author_person',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='articles.person'),
        ),
        migrations.AddField(
            model_name='historicalarticle',
            name='author_person',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='articles.person'),
        ),
    ]
