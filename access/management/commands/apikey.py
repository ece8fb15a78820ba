"""`manage.py apikey create|list|revoke`: API keys for the /api/v1 routes."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from access.models import ApiKey
from access.services import api_key_create_for, api_key_revoke


class Command(BaseCommand):
    help = "Create, list or revoke API keys. A new key is printed once and never again."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="Create a key for an owner (made if absent).")
        create.add_argument("--owner", required=True, help="The owner's username.")
        create.add_argument("--name", default="", help="What the key is for.")
        listing = actions.add_parser("list", help="List keys (their prefixes, never the keys).")
        listing.add_argument("--owner", help="Only this owner's keys.")
        revoke = actions.add_parser("revoke", help="Revoke a key by its prefix or id.")
        revoke.add_argument("key", help="The key's prefix (as `list` shows it) or its id.")

    def handle(self, *args, action: str, **options) -> None:
        getattr(self, f"_{action}")(**options)

    def _create(self, *, owner: str, name: str, **_) -> None:
        created = api_key_create_for(username=owner, name=name)
        self.stdout.write(created.key)
        self.stderr.write(
            f"Created key {created.record.prefix}… for {owner}. Store it now: it is not shown again."
        )

    def _list(self, *, owner: str | None = None, **_) -> None:
        keys = ApiKey.objects.select_related("owner").order_by("id")
        if owner:
            keys = keys.filter(owner__username=owner)
        for key in keys:
            used = key.last_used_at.isoformat(timespec="seconds") if key.last_used_at else "never"
            state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
            self.stdout.write(
                f"{key.pk}\t{key.prefix}…\t{key.owner.username}\t{key.name or '-'}\t"
                f"created {key.created_at:%Y-%m-%d}\tlast used {used}\t{state}"
            )

    def _revoke(self, *, key: str, **_) -> None:
        lookup = {"pk": int(key)} if key.isdigit() else {"prefix": key.rstrip("…")}
        matches = list(ApiKey.objects.filter(**lookup))
        if len(matches) != 1:
            raise CommandError(f"{len(matches)} keys match {key!r}: give one key's prefix or id.")
        api_key_revoke(api_key=matches[0])
        self.stdout.write(f"Revoked {matches[0].prefix}….")
