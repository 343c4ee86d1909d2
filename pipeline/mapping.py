"""`insight map EXTRACT`: the service block of an extract proposed from the file itself.

**What is read** (`read_sample`): the header and at most `SAMPLE_ROWS` rows below it, never more.
A CSV in the encoding the ingest stage's rule gives for its first 4 MB (`_head_encoding`), a
workbook read only (any sheet: `--sheet`, else the one with most rows). The header row is found as
the ingest stage finds it (`pipeline.ingest.headers.sniff_csv`, `pipeline.ingest.xlsx.
sheet_header_index`), scored against the headers councils usually give each field
(`PROBE_HEADERS` and the stage's own `SYNONYMS`); when no row holds one of them (every header
renamed), the first of the rows searched that is as wide as the widest row, so title rows above it
are skipped. The run finds the same row: it holds every header the block maps.

**What is proposed** (`propose`), each choice by the project's own rules, with its evidence:

* postcode: the column with the largest share of values that are postcodes by the postcode rule
  (`pipeline.address.postcode`: the key, then valid or read by correcting confused characters),
  at least `POSTCODE_SHARE`;
* UPRN: a column whose values are UPRNs by the UPRN rule (`pipeline.address.uprn`: 12 digits or
  fewer, an Excel float such as ``1.00023336956E11`` included), named like one or with keys of 8 to
  12 digits;
* dates: the columns whose values are dates by the date rule (`pipeline.dates`), with the format
  found; the first (a header naming a date of birth aside) is `date`, a date of birth is
  `date_of_birth` when no age band is mapped;
* equality fields: a column whose values the built-in code lists recognise
  (`pipeline.profiles.equality.codemap`), at least `CODE_SHARE` of them; a yes/no column is
  `disability` only when its header says so;
* channel: values that are contact channels (`CHANNELS`), or a header naming one;
* address lines: headers naming an address part whose values are text, in file order (five at most;
  a column blank in the sample right after a mapped line, named as an address part, is the next);
* record id: a column with every sampled value present and distinct, the header naming an id first;
* options: YES/NO columns (profiled as sub-services); likely outcomes (a yes/no column named like
  an outcome, a satisfaction scale, a number) as commented lines to check and uncomment.

A column no rule claims is a commented line saying why; a header that would hold a name, phone
number or email address is never mapped (`pipeline.config.identifier_kind`).

**What is printed**: the block, each choice with its share ("94% of 2,000 values are postcodes")
and at most one masked example (`masked`: its first character, then letters and digits as `*`);
no other record value.

**--write** (`add_to_config`) puts the block at the end of the config's `services:` list (or
replaces `services: []`), leaving every other line as it is; the file path is written relative to
the config's folder, where a run reads it from (`pipeline.paths.anchored`).
"""

from __future__ import annotations

import codecs
import csv
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path

import pandas as pd

from pipeline.address import postcode, uprn
from pipeline.config import DATE_OF_BIRTH as DATE_OF_BIRTH_FIELD
from pipeline.config import EQUALITY_FIELDS, ConfigError, Service, identifier_kind
from pipeline.dates import FORMATS, YEAR_PATTERN, parse
from pipeline.errors import InsightError
from pipeline.ingest.encoding import bom_encoding, is_utf8
from pipeline.ingest.filekind import check_path
from pipeline.ingest.headers import SNIFF_LINES, SYNONYMS, norm_header, sniff_csv, wanted_headers
from pipeline.ingest.xlsx import check_xlsx_size, sheet_header_index
from pipeline.profiles.equality.categories import MISSING, PREFER_NOT, UNKNOWN
from pipeline.profiles.equality.codemap import CodeMap

#: Rows read below the header, at most; and the bytes read from a CSV's top to tell its encoding
SAMPLE_ROWS = 2000
HEAD_BYTES = 4 << 20
#: Shares of the non-blank sampled values a rule must claim
POSTCODE_SHARE, CODE_SHARE, DATE_SHARE, TEXT_SHARE, ID_SHARE = 0.5, 0.8, 0.9, 0.9, 0.95
#: Headers councils usually give the fields the stage's SYNONYMS do not cover (for finding the header)
PROBE_HEADERS = {
    "record_id": ["ID", "Ref", "Reference", "Record ID", "Client ID", "Customer ID", "Account Ref",
                  "Account No", "Member No", "Contact ID", "Case ID", "Case Ref", "Subscription No"],
    "date": ["Date", "Start Date", "Referral Date", "Contact Date", "Created", "Date Received"],
    "age_band": ["Age Band", "Age", "Age Group"], "sex": ["Sex", "Gender"],
    "ethnicity": ["Ethnicity", "Ethnic Origin", "Ethnic Group"], "disability": ["Disability", "Disabled"],
    "channel": ["Channel", "Contact Method", "Preferred contact", "Contact Channel"],
}
#: Contact channels, compared as `norm_header` compares headers
CHANNELS = {norm_header(c) for c in (
    "Phone", "Telephone", "Tel", "Email", "E-mail", "Online", "Web", "Website", "Webchat", "Web chat",
    "Chat", "Face to face", "Face-to-face", "In person", "Letter", "Post", "App", "Social media",
    "SMS", "Text", "Text message", "Walk-in", "Self-service", "Portal", "Visit", "Home visit")}
YES_NO = {"yes", "no", "y", "n", "true", "false"}
NOT_KNOWN = {"not known", "unknown", "don't know", "dont know", "do not know", "not sure", "n/a"}
#: Satisfaction scales an ordinal outcome is recognised by, worst first
SCALES = [["Very dissatisfied", "Dissatisfied", "Neither satisfied nor dissatisfied", "Satisfied",
           "Very satisfied"],
          ["Very poor", "Poor", "Fair", "Good", "Very good"],
          ["Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree", "Strongly agree"]]
_ADDRESS = re.compile(r"address|addr|^add\d|street|^line\d|town|locality|district|village|city|county|"
                      r"houseno|housenumber|building|flat|road")
_ID = re.compile(r"(^|[a-z])(id|ref|reference|no|number|num|key|code)$|^(id|ref)")
_OUTCOME = re.compile(r"quit|outcome|success|completed|achieved|resolved|result|satisf|rating|score|"
                      r"daysto|timeto|wait")
_DOB = {norm_header(h) for h in SYNONYMS["date_of_birth"]}
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


class MapError(InsightError):
    """An extract `insight map` cannot read, or a config it cannot add the block to: the problem
    and its fix on one line."""

    def __init__(self, message: str, *, fix: str):
        super().__init__(f"{message}. Fix: {fix}", fix=fix)


@dataclass
class Sample:
    """The header and the sampled rows of an extract (never stored)."""

    path: Path
    header_row: int  # 1-based
    headers: list[str]
    rows: list[list[str]]
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)

    def values(self, i: int) -> list[str]:
        """The non-blank sampled values of column i, trimmed."""
        return [r[i].strip() for r in self.rows if i < len(r) and r[i] is not None and r[i].strip()]


@dataclass
class Proposal:
    """The proposed block: mapped columns, options and outcomes, each with its evidence, and the
    columns left undecided with why."""

    sample: Sample
    name: str
    label: str
    columns: dict[str, str] = field(default_factory=dict)
    options: list[str] = field(default_factory=list)
    outcomes: list[dict] = field(default_factory=list)
    evidence: dict[str, str] = field(default_factory=dict)  # header -> why
    undecided: dict[str, str] = field(default_factory=dict)  # header -> why not

    def service(self, file: Path | str) -> dict:
        """The block as a config dict (commented outcomes left out)."""
        block = {"name": self.name, "label": self.label, "file": str(file)}
        if self.sample.sheet is not None:
            block["sheet"] = self.sample.sheet
        if self.sample.encoding and not is_utf8(self.sample.encoding):
            block["encoding"] = self.sample.encoding
        block["columns"] = dict(self.columns)
        if self.options:
            block["options"] = list(self.options)
        return block


# --- reading the header and a sample ---------------------------------------------------------------


def _probe(path: Path, sheet: str | int | None = None) -> Service:
    """A service mapping every field to the headers councils usually give it: the ingest stage's
    header search scores a row by how many of them it holds."""
    columns = {f: list(h) for f, h in PROBE_HEADERS.items()} | {
        f: list(h) for f, h in SYNONYMS.items() if f != DATE_OF_BIRTH_FIELD}  # not with age_band
    return Service(name="probe", label="probe", file=path, sheet=sheet, columns=columns)


def _widest_first(rows: list[list[str]]) -> int:
    """0-based index of the first row, among the SNIFF_LINES searched, with the most non-blank cells."""
    head = [sum(1 for c in r if c and str(c).strip()) for r in rows[:SNIFF_LINES]]
    return head.index(max(head)) if head else 0


def _score(cells: list[str], wanted: set[str]) -> int:
    return len(wanted & {norm_header(c) for c in cells})


def _head_encoding(path: Path) -> str:
    """The ingest stage's encoding rule (`detect_encoding`) on the first HEAD_BYTES only: a
    byte-order mark's, else UTF-8 if those bytes decode, else cp1252. (The run detects the whole
    file's; the block names an encoding only when the head already shows it is not UTF-8.)"""
    bom = bom_encoding(path)
    if bom:
        return bom
    with open(path, "rb") as fh:
        head = fh.read(HEAD_BYTES)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)  # a character cut at the end
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def _csv_sample(path: Path, limit: int) -> Sample:
    encoding = _head_encoding(path)
    readable = "utf-8-sig" if is_utf8(encoding) else encoding
    probe = _probe(path)
    line, delim = sniff_csv(path, probe, encoding=readable)
    with open(path, encoding=readable, errors="replace", newline="") as fh:
        head = list(islice(fh, SNIFF_LINES))
    if _score(next(csv.reader([head[line]], delimiter=delim), []) if line < len(head) else [],
              wanted_headers(probe)) == 0:  # no usual header: the widest row under the widest delimiter
        delim = max([",", "\t", ";", "|"], key=lambda d: max(
            (len(next(csv.reader([x], delimiter=d), [])) for x in head), default=0))
        line = _widest_first([next(csv.reader([x], delimiter=delim), []) for x in head])
    with open(path, encoding=readable, errors="replace", newline="") as fh:
        reader = csv.reader(islice(fh, line, None), delimiter=delim)
        headers = next(reader, [])
        rows = [r for r in islice(reader, limit)]
    return Sample(path, line + 1, headers, rows, encoding=encoding, delimiter=delim)


def _xlsx_sample(path: Path, sheet: str | None, limit: int) -> Sample:
    from openpyxl import load_workbook

    check_xlsx_size(path, _probe(path))  # the stage's guard: a workbook that would expand too far
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises many types for a damaged workbook
        raise MapError(f"{path}: the workbook is damaged or not a real .xlsx",
                       fix="open it in Excel and save it as .xlsx or as CSV UTF-8") from None
    try:
        names = wb.sheetnames
        if sheet is not None and sheet not in names:
            raise MapError(f"{path}: no sheet {sheet!r}; sheets are {names}",
                           fix="pass --sheet with one of them")
        if sheet is None:  # the sheet holding the records: the one with most rows (counted to the
            # sample's end when the workbook does not say)
            def size(n: str) -> int:
                return wb[n].max_row or sum(1 for _ in wb[n].iter_rows(max_row=SNIFF_LINES + limit + 1))

            sheet = max(names, key=lambda n: (size(n), -names.index(n)))
        ws = wb[sheet]
        rows = [["" if v is None else str(v) for v in r]
                for r in ws.iter_rows(max_row=SNIFF_LINES + limit + 1, values_only=True)]
    finally:
        wb.close()
    if not rows:
        raise MapError(f"{path}: the sheet {sheet!r} is empty",
                       fix="name the sheet holding the records with --sheet")
    probe = _probe(path, sheet)
    row = sheet_header_index(rows, path, probe)
    if _score(rows[row], wanted_headers(probe)) == 0:
        row = _widest_first(rows)
    return Sample(path, row + 1, rows[row], rows[row + 1: row + 1 + limit], sheet=sheet,
                  sheets=names if len(names) > 1 else [])


def read_sample(path: Path | str, sheet: str | None = None, limit: int = SAMPLE_ROWS) -> Sample:
    """The header (found as the ingest stage finds it) and at most `limit` rows below it."""
    path = Path(path)
    if not path.exists():
        raise MapError(f"{path}: no such file", fix="name the extract's file")
    if path.is_dir():
        raise MapError(f"{path} is a folder", fix="name the extract's file in it")
    check_path(path, _probe(path))  # the stage's rule: a folder, an empty file, a kind it cannot read
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _xlsx_sample(path, sheet, limit)
    if sheet is not None:
        raise MapError(f"{path}: --sheet {sheet!r} is for a workbook (.xlsx), not a {path.suffix} file",
                       fix="leave out --sheet")
    return _csv_sample(path, limit)


# --- the rules ----------------------------------------------------------------------------------------


def masked(value: str) -> str:
    """A value shown without its content: its first character, then each letter or digit as '*'."""
    value = str(value).strip()
    return value[:1] + re.sub(r"[A-Za-z0-9]", "*", value[1:]) if value else ""


def _pct(share: float) -> str:
    return f"{100 * share:.0f}%"


def _keys_by_column(columns: dict[int, list[str]], keys) -> dict[int, list[str | None]]:
    """A key rule's keys (`postcode.keys`, `uprn.keys`) of several columns' values in one call."""
    flat = [v for values in columns.values() for v in values]
    got = list(keys(pd.Series(flat, dtype=object))) if flat else []
    out, at = {}, 0
    for i, values in columns.items():
        out[i], at = got[at: at + len(values)], at + len(values)
    return out


def _postcode_share(keys: list[str | None]) -> float:
    return sum(1 for k in keys if k and (postcode.is_valid(k) or postcode.reading(k))) / len(keys)


def _date_format(values: list[str]) -> tuple[float, str | None]:
    """(share of values that are dates by the rule, the format most of them are in)."""
    found: Counter = Counter()
    dated = 0
    for v, count in Counter(values).items():
        if not re.search(YEAR_PATTERN, v) or parse(v) is None:  # no four-digit year: no date
            continue
        dated += count
        for fmt in FORMATS:
            try:
                datetime.strptime(v, fmt)
            except ValueError:
                continue
            found[fmt] += count
            break
    shown = found.most_common(1)[0][0] if found else None
    words = {"%d": "dd", "%m": "mm", "%Y": "yyyy", "%H": "hh", "%M": "mm", "%S": "ss"}
    for code, word in words.items():
        shown = shown.replace(code, word) if shown else shown
    return dated / len(values), shown


def _code_share(field_name: str, values: list[str]) -> float:
    """Share of the values (other than 'prefer not to say' and missing codes) the built-in lists
    recognise for an equality field; 0 when fewer than two categories are seen."""
    cmap = CodeMap(field_name)
    got = Counter()
    for value, count in Counter(values).items():
        got[cmap.builtin(value)] += count
    given = {g: c for g, c in got.items() if g not in (PREFER_NOT, MISSING)}
    if len(set(given) - {UNKNOWN}) < 2:
        return 0.0
    return sum(c for g, c in given.items() if g != UNKNOWN) / sum(given.values())


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "service"


def propose(sample: Sample, name: str | None = None, label: str | None = None) -> Proposal:
    """The service block for a sampled extract (module docstring: each rule and its evidence)."""
    stem = sample.path.stem
    prop = Proposal(sample, name or _slug(stem)[:40], label or stem.replace("_", " ").strip().capitalize())
    n_rows = len(sample.rows)
    free: dict[int, str] = {}
    for i, h in enumerate(sample.headers):
        header = str(h).strip()
        if not header:
            continue
        if header in free.values():
            prop.undecided[header] = "the header appears more than once; rename the copies to map it"
            continue
        kind = identifier_kind(header)
        if kind:
            prop.undecided[header] = f"would hold a {kind}: never mapped"
        elif not sample.values(i):
            prop.undecided[header] = f"blank in all {n_rows:,} rows sampled"
        else:
            free[i] = header

    def take(fld: str, i: int, why: str) -> None:
        prop.columns[fld] = free.pop(i)
        prop.evidence[prop.columns[fld]] = why

    def of(i: int) -> str:
        values = sample.values(i)
        return f"{len(values):,} value{'s' if len(values) != 1 else ''}"

    # postcode: by content (the keys of every column in one call of the rule)
    pc_keys = _keys_by_column({i: sample.values(i) for i in free}, postcode.keys)
    uprn_keys = _keys_by_column({i: sample.values(i) for i in free}, uprn.keys)
    shares = {i: _postcode_share(pc_keys[i]) for i in free}
    best = max(shares, key=lambda i: (shares[i], -i), default=None)
    if best is not None and shares[best] >= POSTCODE_SHARE:
        take("postcode", best, f"{_pct(shares[best])} of {of(best)} are postcodes "
                               f"(e.g. {masked(sample.values(best)[0])})")
    # UPRN: 12 digits or fewer, Excel floats included
    for i in list(free):
        values = sample.values(i)
        ok = [k for k in uprn_keys[i] if k and len(k) <= 12]
        named = "uprn" in norm_header(free[i])
        long_keys = sum(1 for k in ok if len(k) >= 8)
        if (named and len(ok) >= 0.9 * len(values)) or (long_keys >= 0.9 * len(values) and not
                                                      any(c.isalpha() for v in values[:50] for c in v)):
            floats = sum(1 for v in values if "e" in v.lower() or v.endswith(".0"))
            take("uprn", i, f"{_pct(len(ok) / len(values))} of {of(i)} are UPRNs"
                 + (f" ({_pct(floats / len(values))} as Excel saves them)" if floats else ""))
            break
    # dates
    dates = {}
    for i in list(free):
        share, fmt = _date_format(sample.values(i))
        if share >= DATE_SHARE:
            dates[i] = (share, fmt)
    # equality fields, before the record id (a code list is never an id)
    for fld in EQUALITY_FIELDS:
        if fld in prop.columns:
            continue
        scored = {}
        for i in free:
            if i in dates:
                continue
            values = sample.values(i)
            yes_no = {v.lower() for v in values} <= YES_NO | {"prefer not to say", "not known", "unknown"}
            head = norm_header(free[i])
            if yes_no and not (fld == "disability" and "disab" in head):
                continue
            if fld == "disability" and "disab" not in head:
                continue  # yes/no codes alone say nothing of disability
            if fld == "gender_identity" and "sex" in head:
                continue
            scored[i] = _code_share(fld, values)
        best = max(scored, key=lambda i: (scored[i], -i), default=None)
        if best is not None and scored[best] >= CODE_SHARE:
            take(fld, best, f"{_pct(scored[best])} of {of(best)} are {fld.replace('_', ' ')} codes "
                            "the built-in lists recognise")
    for i, (share, fmt) in sorted(dates.items()):
        if i not in free:
            continue
        head = norm_header(free[i])
        if head in _DOB or "birth" in head:
            if "age_band" not in prop.columns and DATE_OF_BIRTH_FIELD not in prop.columns:
                take(DATE_OF_BIRTH_FIELD, i, f"{_pct(share)} of {of(i)} are dates ({fmt}); stored only as "
                                             "the age band")
        elif "date" not in prop.columns:
            take("date", i, f"{_pct(share)} of {of(i)} are dates ({fmt})")
        else:
            prop.undecided[free.pop(i)] = f"also dates ({fmt}); `date` is {prop.columns['date']!r}"
    # channel
    for i in list(free):
        values = sample.values(i)
        share = sum(norm_header(v) in CHANNELS for v in values) / len(values)
        head = norm_header(free[i])
        if "channel" not in prop.columns and (share >= CODE_SHARE or (
                ("channel" in head or "contactmethod" in head or "preferredcontact" in head)
                and len(set(values)) <= 20)):
            take("channel", i, f"{_pct(share)} of {of(i)} are contact channels" if share >= CODE_SHARE
                 else f"the header names a contact channel; {len(set(values))} distinct values")
    # YES/NO columns: options, or a likely binary outcome
    for i in list(free):
        values = sample.values(i)
        low, head = {v.lower() for v in values}, norm_header(free[i])
        if _OUTCOME.search(head) and low <= YES_NO | NOT_KNOWN and low & YES_NO:
            prop.outcomes.append({"name": _slug(free[i])[:30], "column": free[i], "label": free[i],
                                  "kind": "binary", "why": f"{of(i)}, all yes/no or not known"})
            prop.undecided[free.pop(i)] = "a likely binary outcome (below)"
        elif low <= YES_NO:
            prop.options.append(free[i])
            prop.evidence[free.pop(i)] = f"{of(i)}, all yes/no: an option (sub-service)"
    # address lines: headers naming an address part, text values, file order; a line blank in the
    # sample right after one mapped is mapped too (a second or third line filled further down)
    n, blank = 0, {i: str(h).strip() for i, h in enumerate(sample.headers)
                   if str(h).strip() in prop.undecided and prop.undecided[str(h).strip()].startswith("blank")}
    for i in sorted([*free, *blank]):
        head = free.get(i) or blank[i]
        if n == 0 or n >= 5 or not _ADDRESS.search(norm_header(head)):
            if i in blank or n >= 5:
                continue
        if i in blank:
            if prop.columns.get(f"address_{n}") != sample.headers[i - 1].strip():
                continue
            n += 1
            prop.columns[f"address_{n}"] = head
            prop.evidence[head] = prop.undecided.pop(head) + ": the address line after the one before"
            continue
        values = sample.values(i)
        if _ADDRESS.search(norm_header(head)) and \
                sum(any(c.isalpha() for c in v) for v in values) >= TEXT_SHARE * len(values):
            n += 1
            take(f"address_{n}", i, f"the header names an address part; {of(i)} of text "
                                    f"(e.g. {masked(values[0])})")
    # record id: (almost) every row has a value, (almost) all distinct; a header naming an id first
    ids = []
    for i in free:
        values = sample.values(i)
        if len(values) >= ID_SHARE * n_rows and len(set(values)) >= ID_SHARE * len(values) \
                and not any(" " in v for v in values[:200]):
            ids.append((not _ID.search(norm_header(free[i])), i))
    if ids:
        i = min(ids)[1]
        values = sample.values(i)
        take("record_id", i, f"{_pct(len(values) / n_rows)} of {n_rows:,} rows have one, "
                             f"{_pct(len(set(values)) / len(values))} distinct (e.g. {masked(values[0])})")
    # likely outcomes among the rest: a satisfaction scale, or numbers
    for i in list(free):
        values = sample.values(i)
        low = {v.lower() for v in values}
        scale = next((s for s in SCALES if low <= {x.lower() for x in s} | {"don't know", "dont know"}), None)
        if scale:
            prop.outcomes.append({"name": _slug(free[i])[:30], "column": free[i], "label": free[i],
                                  "kind": "ordinal", "scale": scale,
                                  "why": f"{of(i)} on a satisfaction scale"})
            prop.undecided[free.pop(i)] = "a likely ordinal outcome (below)"
        elif all(_NUMBER.fullmatch(v) for v in values) and _OUTCOME.search(norm_header(free[i])):
            prop.outcomes.append({"name": _slug(free[i])[:30], "column": free[i], "label": free[i],
                                  "kind": "numeric", "why": f"{of(i)}, all numbers"})
            prop.undecided[free.pop(i)] = "a likely numeric outcome (below)"
    for i, header in free.items():
        values = sample.values(i)
        prop.undecided[header] = (f"{len(values):,} of {n_rows:,} rows filled, {len(set(values)):,} distinct "
                                  "values: no rule claims it")
    return prop


# --- the block as YAML, and adding it to a config -----------------------------------------------------


def _q(text) -> str:
    import json

    text = str(text)
    return text if re.fullmatch(r"[A-Za-z][A-Za-z0-9 _./()'-]*", text) and not text.endswith(" ") \
        and text.lower() not in ("yes", "no", "true", "false", "null", "on", "off", "y", "n") \
        and ": " not in text else json.dumps(text, ensure_ascii=False)


def block_text(prop: Proposal, file: Path | str) -> str:
    """The block as YAML lines (a list item at two spaces), each choice with its evidence as a
    comment, the likely outcomes and undecided columns as commented lines."""
    s = prop.sample
    lines = [f"  # proposed by `insight map` from {s.path.name}: header on "
             f"{'row' if s.sheet is not None else 'line'} {s.header_row}, {len(s.rows):,} rows sampled"
             + (f"; sheet {s.sheet!r}, the one with most rows of {s.sheets}" if s.sheets else ""),
             f"  - name: {_q(prop.name)}", f"    label: {_q(prop.label)}", f"    file: {_q(file)}"]
    block = prop.service(file)
    if "sheet" in block:
        lines.append(f"    sheet: {_q(block['sheet'])}")
    if "encoding" in block:
        lines.append(f"    encoding: {_q(block['encoding'])}   # detected")
    lines.append("    columns:")
    for fld, header in prop.columns.items():
        lines.append(f"      {fld}: {_q(header)}   # {prop.evidence[header]}")
    if prop.options:
        lines.append("    options:")
        lines += [f"      - {_q(o)}   # {prop.evidence[o]}" for o in prop.options]
    if prop.outcomes:
        lines.append("    # likely outcomes: check each, then uncomment (docs/profiles.md, 'Outcomes')")
        lines.append("    # outcomes:")
        for o in prop.outcomes:
            extra = f", scale: [{', '.join(_q(x) for x in o['scale'])}]" if o["kind"] == "ordinal" else ""
            lines.append(f"    #   - {{name: {o['name']}, column: {_q(o['column'])}, "
                         f"label: {_q(o['label'])}, kind: {o['kind']}{extra}}}   # {o['why']}")
    if prop.undecided:
        lines.append("    # columns not mapped:")
        lines += [f"    #   {h}: {why}" for h, why in prop.undecided.items()]
    return "\n".join(lines) + "\n"


def file_as_written(extract: Path, config: Path | None) -> str:
    """The extract's path as the config names it: relative to the config's folder (where a run reads
    it from), or absolute without a config."""
    extract = Path(os.path.abspath(extract))
    if config is None:
        return str(extract)
    return os.path.relpath(extract, Path(os.path.abspath(config)).parent)


def add_to_config(text: str, block: str, name: str) -> str:
    """`text` (a config's YAML) with `block` added to its `services:` list, every other line kept."""
    import yaml

    raw = yaml.safe_load(text) or {}
    if any(isinstance(s, dict) and s.get("name") == name for s in raw.get("services") or []):
        raise MapError(f"the config already has a service named {name!r}",
                       fix="pass --name with another name, or remove that service first")
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    at = next((i for i, x in enumerate(lines) if re.match(r"services\s*:", x)), None)
    if at is None:
        return "".join(lines) + "\nservices:\n" + block
    if re.match(r"services\s*:\s*\[\s*\]\s*(#.*)?$", lines[at].rstrip("\n")):
        lines[at] = "services:\n" + block
        return "".join(lines)
    end = next((i for i in range(at + 1, len(lines)) if re.match(r"[A-Za-z_]", lines[i])), len(lines))
    item = next((m.group(1) for x in lines[at + 1:end] if (m := re.match(r"( *)- ", x))), "  ")
    if item != "  ":  # the list's own indentation (a dumped YAML writes its items at 0)
        block = "".join(item + x[2:] if x.startswith("  ") else x for x in block.splitlines(keepends=True))
    while end > at + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
        end -= 1  # comments and blank lines before the next key stay with it
    return "".join(lines[:end]) + block + "".join(lines[end:])


def write_block(config: Path, block: str, name: str) -> None:
    """Add the block to the config file; the new text must load as a config (its schema) first."""
    from pipeline.config import load_config

    new = add_to_config(config.read_text(encoding="utf-8"), block, name)
    tmp = config.with_name(f".{config.stem}.map.{os.getpid()}.yaml")  # beside it: paths read alike
    tmp.write_text(new, encoding="utf-8")
    try:
        load_config(tmp, check_files=False)
    except ConfigError as exc:
        raise ConfigError(config, exc.problems) from None
    finally:
        tmp.unlink(missing_ok=True)
    config.write_text(new, encoding="utf-8")
