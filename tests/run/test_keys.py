"""Pseudonymous household keys: keyed hashes (HMAC-SHA256) under a per-installation secret, so
holding the warehouse is not enough to confirm a guessed address or UPRN; the same household gets
the same key in every service, so cross-service counting still works."""

import hashlib
import hmac
import os
import stat
import subprocess
import sys

import duckdb
import pytest

from pipeline import secret
from pipeline.config import RunConfig
from pipeline.geocode import EMPTY_GAZETTEER, geocode_service
from pipeline.ingest import ingest_service
from pipeline.ownership import NotOwnedError, check_layout
from pipeline.warehouse import connect
from tests.conftest import REPO
from tests.helpers import make_ref_postcodes, tiny_config

HEADER = "Ref,Address 1,Address 2,UPRN,Postcode"


@pytest.fixture
def secret_file(tmp_path, monkeypatch):
    path = tmp_path / "keys" / ".insight-secret"
    monkeypatch.setenv(secret.SECRET_ENV, str(path))
    return path


def _geocode(tmp_path, services: dict[str, list[str]], uprns: tuple[str, ...] = ()) -> tuple[RunConfig, ...]:
    """Geocode hand-made extracts (name -> CSV data lines) in the run's own warehouse; return
    (cfg, open connection)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    specs = []
    for name, lines in services.items():
        path = tmp_path / f"{name}.csv"
        path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
        specs.append({"name": name, "label": name, "file": str(path),
                      "columns": {"record_id": "Ref", "address_1": "Address 1", "address_2": "Address 2",
                                  "uprn": "UPRN", "postcode": "Postcode"}})
    cfg = tiny_config(tmp_path, specs)
    con = connect(cfg, fresh=True)
    make_ref_postcodes(con, [("DM4 7QX", "E00900001", "E05900001", True)])
    con.execute("CREATE TABLE ref_oa AS SELECT 'E00900001' AS oa21cd, 'E05900001' AS ward_code")
    con.execute(EMPTY_GAZETTEER)
    con.execute("""CREATE TABLE ref_uprn (uprn VARCHAR, postcode VARCHAR, pc_key VARCHAR, oa21cd VARCHAR,
                   ward_code VARCHAR, x DOUBLE, y DOUBLE, source VARCHAR)""")
    for u in uprns:
        con.execute("INSERT INTO ref_uprn VALUES (?, 'DM4 7QX', 'DM47QX', 'E00900001', 'E05900001', 1, 2, "
                    "'gazetteer')", [u])
    for s in cfg.services:
        ingest_service(con, cfg, s)
        geocode_service(con, s)
    return cfg, con


def _key(con, service: str, row: int) -> str:
    sql = f"SELECT household_key FROM geocode_{service} WHERE row_number = ?"
    return con.execute(sql, [row]).fetchall()[0][0]


def test_sql_key_is_the_hmac_of_the_installation_secret(secret_file):
    con = duckdb.connect()
    secret.install(con)
    key = secret.load_secret()
    for value in ("uprn|100012345678", "addr|5 HIGH STREET|DM47QX", "", "Flat 2, Tŷ Gwyn|CF101AA"):
        got = con.execute("SELECT insight_key(?)", [value]).fetchall()[0][0]
        expected = hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:32]
        assert got == expected == secret.keyed_hash(value)
    other = duckdb.connect()
    secret.install(other, key=bytes(32))  # another installation's secret: other keys
    sql = "SELECT insight_key('x')"
    assert other.execute(sql).fetchall() != con.execute(sql).fetchall()


def test_warehouse_key_is_not_a_plain_hash_of_the_address(tmp_path, secret_file):
    _, con = _geocode(tmp_path, {"svc": ["R1,5 High Street,Denby,,DM4 7QX", "R2,,,,DM4 7QX"]})
    key = _key(con, "svc", 1)
    assert key.startswith("addr:")
    digest = key.removeprefix("addr:")
    guesses = [f"{a}|{p}" for a in ("5 HIGH STREET DENBY", "5 High Street Denby", "5 High Street, Denby")
               for p in ("DM47QX", "DM4 7QX")]
    for guess in guesses:  # whoever holds the warehouse cannot confirm the address by hashing it
        for plain in (hashlib.md5, hashlib.sha1, hashlib.sha256):
            assert not plain(guess.encode()).hexdigest().startswith(digest)
            assert not plain(f"addr|{guess}".encode()).hexdigest().startswith(digest)
    assert digest == secret.keyed_hash("addr|5 HIGH STREET DENBY|DM47QX")  # keyed: needs the secret
    row_key = _key(con, "svc", 2)  # postcode only: a record key, keyed too
    assert row_key == "row:" + secret.keyed_hash("row|svc|2") != "row:2"
    stored = con.execute("SELECT string_agg(household_key, ' ') FROM geocode_svc").fetchall()[0][0]
    assert "HIGH" not in stored.upper()
    con.close()


def test_uprn_key_does_not_hold_the_uprn(tmp_path, secret_file):
    _, con = _geocode(tmp_path, {"svc": ["R1,,,100012345678,DM4 7QX"]}, uprns=("100012345678",))
    key = _key(con, "svc", 1)
    assert con.execute("SELECT match_level FROM geocode_svc").fetchall() == [("uprn",)]
    assert key.startswith("uprn:") and "100012345678" not in key
    assert key != "uprn:" + hashlib.md5(b"100012345678").hexdigest()
    assert key == "uprn:" + secret.keyed_hash("uprn|100012345678")
    con.close()


def test_same_household_same_key_in_every_service(tmp_path, secret_file):
    """Cross-service counting (count DISTINCT household_key over the services) still finds the
    households two services share; record keys of postcode-only rows never collide across services."""
    _, con = _geocode(tmp_path, {
        "library": ["L1,5 High Street,Denby,,DM4 7QX", "L2,7 High Street,,,DM4 7QX", "L3,,,,DM4 7QX"],
        "garden": ["G1,5  high street.,DENBY,,dm47qx", "G2,9 Low Road,,,DM4 7QX", "G3,,,,DM4 7QX"],
    })
    assert _key(con, "library", 1) == _key(con, "garden", 1)  # same address, written differently
    assert _key(con, "library", 2) != _key(con, "garden", 2)
    assert _key(con, "library", 3) != _key(con, "garden", 3)  # row 3 of each: two different records
    households = con.execute("""SELECT count(DISTINCT household_key) FROM (
        SELECT household_key FROM geocode_library UNION ALL
        SELECT household_key FROM geocode_garden)""").fetchall()
    assert households == [(5,)]  # 6 records, one household in both services
    con.close()


def test_keys_stable_across_runs_of_one_installation(tmp_path, secret_file):
    _, con = _geocode(tmp_path / "a", {"svc": ["R1,5 High Street,Denby,,DM4 7QX"]})
    first = _key(con, "svc", 1)
    con.close()
    _, con = _geocode(tmp_path / "b", {"svc": ["R1,5 High Street,Denby,,DM4 7QX"]})
    assert _key(con, "svc", 1) == first
    con.close()
    secret_file.unlink()  # a new installation secret: new keys
    _, con = _geocode(tmp_path / "c", {"svc": ["R1,5 High Street,Denby,,DM4 7QX"]})
    assert _key(con, "svc", 1) != first
    con.close()


def test_secret_file_private_and_never_in_the_warehouse(tmp_path, secret_file):
    cfg, con = _geocode(tmp_path, {"svc": ["R1,5 High Street,Denby,,DM4 7QX"]})
    con.close()
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert not secret_file.resolve().is_relative_to(cfg.outputs.resolve())
    key = secret.load_secret()
    ipad = bytes(b ^ 0x36 for b in key.ljust(64, b"\0"))
    held = cfg.warehouse.read_bytes()
    assert len(held) > 0 and key not in held and key.hex().encode() not in held and ipad not in held


def test_default_secret_is_git_ignored_and_outside_outputs(monkeypatch):
    monkeypatch.delenv(secret.SECRET_ENV, raising=False)
    assert secret.secret_path() == secret.DEFAULT_SECRET
    ignored = subprocess.run(["git", "check-ignore", "-q", str(secret.DEFAULT_SECRET)], cwd=REPO)
    assert ignored.returncode == 0  # data/ is git-ignored: the secret is never committed


def test_outputs_folder_holding_the_secret_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv(secret.SECRET_ENV, str(tmp_path / "shared" / ".insight-secret"))
    cfg = tiny_config(tmp_path, [{"name": "s", "label": "S", "file": "x.csv", "columns": {"postcode": "P"}}],
                      outputs_dir=str(tmp_path / "shared"))
    with pytest.raises(NotOwnedError, match="secret key"):
        check_layout(cfg)


def test_permissions_tightened_and_a_damaged_secret_refused(secret_file):
    key = secret.load_secret()
    os.chmod(secret_file, 0o644)
    assert secret.load_secret() == key
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    secret_file.write_text("not a key\n")
    with pytest.raises(FileExistsError, match="damaged"):
        secret.load_secret()


def test_two_processes_making_the_secret_at_once_agree(secret_file):
    code = "from pipeline.secret import load_secret; print(load_secret().hex())"
    procs = [subprocess.Popen([sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE, text=True,
                              env=os.environ | {secret.SECRET_ENV: str(secret_file)}) for _ in range(4)]
    keys = {p.communicate(timeout=60)[0].strip() for p in procs}
    assert len(keys) == 1 and secret_file.read_text().strip() in keys
    assert [p.name for p in secret_file.parent.iterdir()] == [secret_file.name]  # no temporary left


# --- a new secret is never silent; private files are private whatever the umask (issue 23) ---------


def test_a_new_secret_is_a_warning_with_its_fingerprint_never_the_key(secret_file, caplog):
    with caplog.at_level("INFO", logger="pipeline.secret"):
        key = secret.load_secret()
    (made,) = [r for r in caplog.records if "new secret key" in r.getMessage()]
    assert made.levelname == "WARNING" and str(secret_file) in made.getMessage()
    fp = secret.fingerprint()
    assert fp in made.getMessage() and secret.made_now()
    assert fp == hmac.new(key, secret.FINGERPRINT_TEXT, hashlib.sha256).hexdigest()[:16]
    assert fp not in key.hex() and key.hex() not in made.getMessage()
    assert secret.fingerprint() == fp  # stable while the key is


def test_manifest_records_the_fingerprint_and_warns_when_the_secret_changed(tmp_path, secret_file, caplog):
    """A deleted secret gives every household key anew: the next run's manifest records the new
    fingerprint beside the old and warns, in the log, the run's notes and the manifest."""
    from pipeline import privacy

    cfg = tiny_config(tmp_path, [])
    cfg.private.mkdir(parents=True)
    secret.load_secret()
    first = secret.fingerprint()
    privacy.write_manifest(None, cfg, {}, status="t", outputs=None)
    again = privacy.secret_record(cfg.private)
    assert again["fingerprint"] == first and again["changed"] is None and "warning" not in again

    secret_file.unlink()  # lost: a new one is made on next use, silently before
    secret.load_secret()
    record = privacy.secret_record(cfg.private)
    assert record["fingerprint"] != first and record["made_by_this_run"]
    assert record["changed"]["previous_fingerprint"] == first
    assert record["warning"].startswith("WARNING:") and "cannot be compared" in record["warning"]
    path = privacy.write_manifest(None, cfg, {}, status="t", outputs=None)
    saved = privacy.load(cfg.private).data["secret"]
    assert saved["changed"]["previous_fingerprint"] == first and saved["fingerprint"] == record["fingerprint"]
    assert record["warning"] in (path.parent / privacy.MANIFEST_MD).read_text(encoding="utf-8")
    key = secret.load_secret().hex()
    assert key not in path.read_text(encoding="utf-8")  # the fingerprint, never the key


def _modes(folder) -> dict[str, int]:
    return {str(p.relative_to(folder)): stat.S_IMODE(p.stat().st_mode)
            for p in [folder, *folder.rglob("*")] if not p.is_symlink()}


def test_private_files_are_0600_and_folders_0700_whatever_the_umask(tmp_path, secret_file):
    """The warehouse, the rejects (row number and postcode as written), the run summary and the
    unsuppressed profiles and match report: each writer into the private folder makes its files
    0600 and folders 0700 under a umask of 022, and tightens what an older run left 0644."""
    from types import SimpleNamespace

    import pandas as pd

    from pipeline import summary
    from pipeline.geocode import write_rejects
    from pipeline.publish.stage import write_private

    old = os.umask(0o022)
    try:
        cfg, con = _geocode(tmp_path, {"svc": ["R1,5 High Street,Denby,,DM4 7QX", "R2,,,,not a postcode"]})
        rejects = write_rejects(con, cfg.services[0], cfg.private)
        con.close()
        (cfg.private / "run_summary.csv").write_text("old\n")
        os.chmod(cfg.private / "run_summary.csv", 0o644)  # as an older run left it
        summary.write(pd.DataFrame({"service": ["svc"], "rows_read": [2]}), cfg.private)
        prof = SimpleNamespace(views={"segment": pd.DataFrame({"segment_code": ["1"], "service_count": [3]})},
                               cells={"segment": None})  # written as it is (outcomes.format_frame)
        report = SimpleNamespace(tables=lambda: {"match_rate": pd.DataFrame({"ward": ["A"], "matched": [1]})})
        write_private(cfg, SimpleNamespace(services={"svc": prof}, any_service=prof), report, None)
    finally:
        os.umask(old)
    assert "postcode_as_given" in rejects.read_text(encoding="utf-8")
    modes = _modes(cfg.private)
    assert {"warehouse.duckdb", "rejects/svc_rejects.csv", "run_summary.csv",
            "profiles/svc_profile_segment.csv", "quality/match_rate.csv"} <= set(modes)
    loose = {p: oct(m) for p, m in modes.items()
             if m != (0o700 if (cfg.private / p).is_dir() else 0o600)}
    assert loose == {}, loose
