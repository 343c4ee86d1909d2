"""The privacy manifest as a document: its two files, its Markdown text, and saving and reading them.

A run's manifest is `data/<run>/privacy_manifest.json` (:class:`Manifest`, the data) and
`privacy_manifest.md` (:func:`markdown`, the same for an information governance officer to read),
both written by :func:`save` (mode 0600) and read back by :func:`load`. What goes into it is
built by :mod:`pipeline.privacy.record`; a purge adds itself to it (:mod:`pipeline.privacy.retention`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

MANIFEST_JSON = "privacy_manifest.json"
MANIFEST_MD = "privacy_manifest.md"


@dataclass
class Manifest:
    """The privacy manifest of one run, as written to data/<run>/privacy_manifest.json."""

    data: dict = field(default_factory=dict)

    @property
    def created(self) -> datetime:
        return datetime.fromisoformat(self.data["created"])


def utc_now(now: datetime | None) -> datetime:
    """`now` (else the present time) in UTC, to the second: the time a manifest or a purge records."""
    return (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)


def _fingerprint_words(secret: dict | None) -> str:
    """The secret's fingerprint for the manifest's text (and a warning when it changed)."""
    if not secret or not secret.get("fingerprint"):
        return "."
    made = " (made by this run)" if secret.get("made_by_this_run") else ""
    text = (f" (fingerprint `{secret['fingerprint']}`{made}: runs with the same fingerprint have "
            "comparable keys).")
    return text + (f"\n\n**{secret['warning']}**" if secret.get("warning") else "")


def markdown(m: dict) -> str:
    """The manifest for an information governance officer to read."""
    lines = [f"# Privacy manifest: run `{m['run']}`", "",
             f"Made {m['created']} ({m['status']}). Record-level data is kept for "
             f"**{m['retention_days']} days** (`privacy.retention_days`): `insight purge` removes it "
             f"from {m['purge_due']}.", "",
             f"Private folder: `{m['private_folder']}` (warehouse `{m['warehouse']}`). Household keys are "
             f"keyed hashes under the installation's secret key, kept apart in `{m['secret_key']}`"
             f"{_fingerprint_words(m.get('secret'))}", "",
             "## Personal fields read, by service", ""]
    for s in m["services"]:
        lines.append(f"### {s['label']} (`{s['service']}`), {s['file']}")
        lines.append("")
        if s["rows_read"] is None:
            lines += ["Not read (the run stopped before it).", ""]
            continue
        lines += [f"{s['rows_read']:,} rows read. Only these columns were read:", "",
                  "| field | column in the extract | kind |", "|---|---|---|"]
        lines += [f"| `{f['field']}` | {f['header']} | {f['kind']} |" for f in s["fields_read"]]
        lines.append("")
        if dob := s.get("date_of_birth"):
            bands = ", ".join(dob["bands"])
            counts = dob.get("counts") or {}
            lines += [f"Date of birth ({dob['header']}): stored only as its age band ({bands}); "
                      f"{dob['reference']}. Of {counts.get('given', 0):,} dates of birth given, with no age "
                      f"band (counted as missing): {counts.get('unreadable', 0):,} could not be read as a "
                      "date, "
                      f"{counts.get('future', 0):,} fall after the day the age is taken on, "
                      f"{counts.get('too_old', 0):,} give an age over {dob.get('max_age')} "
                      "(privacy.max_age).", ""]
        if s["columns_not_read"]:
            lines += [f"Columns not read (dropped as each row was read): {', '.join(s['columns_not_read'])}."]
        if s["identifier_columns_not_read"]:
            lines += [f"Of these, names, phone numbers or email addresses: "
                      f"{', '.join(s['identifier_columns_not_read'])}. Ask the service to leave them out "
                      "of the extract."]
        lines.append("")
    lines += ["## What the warehouse keeps", "",
              "| table | rows | record-level (removed by purge) | columns |", "|---|---|---|---|"]
    for t in m["warehouse_tables"]:
        lines.append(f"| `{t['table']}` | {t['rows']:,} | {'yes' if t['record_level'] else 'no'} | "
                     f"{', '.join(t['columns'])} |")
    lines += ["", "## Other private files", "", "| path | files | kind | removed by purge |",
              "|---|---|---|---|"]
    lines += [f"| `{f['path']}` | {f['files']} | {f['kind']} | {'yes' if f['removed_by_purge'] else 'no'} |"
              for f in m["private_files"]]
    out = m["outputs"]
    lines += ["", "## Shareable outputs: aggregates only", "",
              f"`{out['folder']}` holds counts, rates and indices by segment, ward, OA and group, never a "
              f"record; {out['suppression']}. {len(out['files'])} files:", ""]
    lines += [f"- `{f}`" for f in out["files"]]
    lines += ["", "## Never stored", ""] + [f"- {n}" for n in m["never_stored"]]
    if m["purges"]:
        lines += ["", "## Purges", ""]
        for p in m["purges"]:
            lines.append(f"- {p['purged']}: removed tables {', '.join(p['tables_removed']) or 'none'}; "
                         f"files {', '.join(p['files_removed']) or 'none'}")
    return "\n".join(lines) + "\n"


def save(manifest: Manifest, private: Path) -> Path:
    """Write the manifest's JSON and Markdown into the private folder (mode 0600); return the JSON."""
    private = Path(private)
    for name, text in ((MANIFEST_JSON, json.dumps(manifest.data, indent=2, ensure_ascii=False) + "\n"),
                       (MANIFEST_MD, markdown(manifest.data))):
        tmp = private / f".{name}.new-{os.getpid()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, private / name)
    return private / MANIFEST_JSON


def load(private: Path) -> Manifest | None:
    """The manifest in a private folder, or None."""
    path = Path(private) / MANIFEST_JSON
    if not path.is_file():
        return None
    return Manifest(json.loads(path.read_text(encoding="utf-8")))
