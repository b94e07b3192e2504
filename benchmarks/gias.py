"""Measure the web GIAS upload at national scale: peak memory of the preview and of the confirmation.

    python -m benchmarks.gias [postgresql+psycopg://postgres@127.0.0.1:5432/bench_gias] [--scale N] [--redis URL]

Empties the database, makes a lead, and writes two files shaped like GIAS's "edubasealldata" extract
(Windows-1252, GIAS's own column names, ~140 columns of which the register reads a dozen) with N
establishments (24,000 by default) in N/10 trusts: the first fills an empty register, the second is a
later extract of the same schools (a few renamed, closed, opened or moved to another trust).

Each step runs in a fresh process through the test client, as a browser would use the app, so its
peak resident set size is its own: upload and preview (one process), then confirm (another). Growth
is the peak less the process's size just before the step (the app made and the lead signed in).
"Parsed on confirm" counts how often the confirmation opened the CSV file (it should be 0).

The confirmation starts a job that imports the kept plan. Without ``--redis`` the job runs in the confirming
request, so "confirm" times the whole import. With ``--redis redis://127.0.0.1:6379/0`` the request only
queues it ("confirm" is then the wait the lead has before the job's page) and a real ``surveyapp worker
--burst`` runs it ("job": the worker's wall time, its start-up of about 5 s included, and the peak RSS of
its processes), while this process reads the job's row every 0.1 s as its page would and counts the
progress it saw ("Importing 12,000 of 24,000").
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_gias"
FOLDER = Path(tempfile.gettempdir()) / "bench-gias"
LEAD_EMAIL = "lead@bench.example.org"
PASSWORD = "benchmark password 2026"

#: the header of GIAS's edubasealldata extract (its real column names, in its order)
GIAS_COLUMNS = [
    "URN", "LA (code)", "LA (name)", "EstablishmentNumber", "EstablishmentName",
    "TypeOfEstablishment (code)", "TypeOfEstablishment (name)", "EstablishmentTypeGroup (code)",
    "EstablishmentTypeGroup (name)", "EstablishmentStatus (code)", "EstablishmentStatus (name)",
    "ReasonEstablishmentOpened (code)", "ReasonEstablishmentOpened (name)", "OpenDate",
    "ReasonEstablishmentClosed (code)", "ReasonEstablishmentClosed (name)", "CloseDate",
    "PhaseOfEducation (code)", "PhaseOfEducation (name)", "StatutoryLowAge", "StatutoryHighAge",
    "Boarders (code)", "Boarders (name)", "NurseryProvision (name)", "OfficialSixthForm (code)",
    "OfficialSixthForm (name)", "Gender (code)", "Gender (name)", "ReligiousCharacter (code)",
    "ReligiousCharacter (name)", "ReligiousEthos (name)", "Diocese (code)", "Diocese (name)",
    "AdmissionsPolicy (code)", "AdmissionsPolicy (name)", "SchoolCapacity", "SpecialClasses (code)",
    "SpecialClasses (name)", "CensusDate", "NumberOfPupils", "NumberOfBoys", "NumberOfGirls", "PercentageFSM",
    "TrustSchoolFlag (code)", "TrustSchoolFlag (name)", "Trusts (code)", "Trusts (name)",
    "SchoolSponsorFlag (name)", "SchoolSponsors (name)", "FederationFlag (name)", "Federations (code)",
    "Federations (name)", "UKPRN", "FEHEIdentifier", "FurtherEducationType (name)", "OfstedLastInsp",
    "OfstedSpecialMeasures (code)", "OfstedSpecialMeasures (name)", "LastChangedDate", "Street", "Locality",
    "Address3", "Town", "County (name)", "Postcode", "SchoolWebsite", "TelephoneNum", "HeadTitle (name)",
    "HeadFirstName", "HeadLastName", "HeadPreferredJobTitle", "BSOInspectorateName (name)",
    "InspectorateReport", "DateOfLastInspectionVisit", "NextInspectionVisit", "TeenMoth (name)",
    "TeenMothPlaces", "CCF (name)", "SENPRU (name)", "EBD (name)", "PlacesPRU", "FTProv (name)",
    "EdByOther (name)", "Section41Approved (name)",
    *[f"SEN{n} (name)" for n in range(1, 14)],
    "TypeOfResourcedProvision (name)", "ResourcedProvisionOnRoll", "ResourcedProvisionCapacity",
    "SenUnitOnRoll", "SenUnitCapacity", "GOR (code)", "GOR (name)", "DistrictAdministrative (code)",
    "DistrictAdministrative (name)", "AdministrativeWard (code)", "AdministrativeWard (name)",
    "ParliamentaryConstituency (code)", "ParliamentaryConstituency (name)", "UrbanRural (code)",
    "UrbanRural (name)", "GSSLACode (name)", "Easting", "Northing", "MSOA (name)", "LSOA (name)",
    "InspectorateName (name)", "SENStat", "SENNoStat", "BoardingEstablishment (name)", "PropsName",
    "PreviousLA (code)", "PreviousLA (name)", "PreviousEstablishmentNumber", "OfstedRating (name)",
    "RSCRegion (name)", "Country (name)", "UPRN", "SiteName", "QABName (code)", "QABName (name)",
    "EstablishmentAccredited (code)", "EstablishmentAccredited (name)", "QABReport", "CHNumber",
    "MSOA (code)", "LSOA (code)", "FSM", "AccreditationExpiryDate",
]  # fmt: skip

PHASES = ["Primary", "Primary", "Primary", "Secondary", "Nursery", "All-through", "16 plus"]
TYPES = ["Community school", "Voluntary aided school", "Academy converter", "Academy sponsor led", "Free schools"]
TOWNS = ["Leeds", "Bradford", "Wakefield", "Halifax", "Huddersfield", "York", "Harrogate", "Doncaster"]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _row(rng: random.Random, n: int, trusts: int, later: bool) -> dict[str, str]:
    """One establishment; ``later``: the next month's extract, with a few of them changed."""
    town = TOWNS[n % len(TOWNS)]
    name = f"St Mary’s {town} School {n:05d}"
    status, closed = "Open", ""
    trust = n % (trusts * 2)  # half the establishments are academies in a trust
    if later and n % 97 == 0:
        name += " (renamed)"
    if later and n % 211 == 0:
        status, closed = "Closed", "31-08-2026"
    if later and n % 157 == 0:
        trust = (trust + 1) % trusts
    row = dict.fromkeys(GIAS_COLUMNS, "")
    row.update(
        {
            "URN": str(100000 + n),
            "LA (code)": str(380 + n % 150),
            "LA (name)": f"{town} City Council",
            "EstablishmentNumber": str(2000 + n % 7000),
            "EstablishmentName": name,
            "TypeOfEstablishment (code)": "01",
            "TypeOfEstablishment (name)": TYPES[n % len(TYPES)],
            "EstablishmentTypeGroup (name)": "Local authority maintained schools",
            "EstablishmentStatus (code)": "1" if status == "Open" else "2",
            "EstablishmentStatus (name)": status,
            "OpenDate": f"01-09-{1950 + n % 70}",
            "CloseDate": closed,
            "PhaseOfEducation (name)": PHASES[n % len(PHASES)],
            "StatutoryLowAge": "4",
            "StatutoryHighAge": "11",
            "Boarders (name)": "No boarders",
            "Gender (name)": "Mixed",
            "ReligiousCharacter (name)": "Does not apply",
            "AdmissionsPolicy (name)": "Not applicable",
            "SchoolCapacity": str(rng.randint(60, 1800)),
            "CensusDate": "16-01-2025",
            "NumberOfPupils": str(rng.randint(20, 1700)),
            "NumberOfBoys": str(rng.randint(10, 850)),
            "NumberOfGirls": str(rng.randint(10, 850)),
            "PercentageFSM": f"{rng.uniform(2, 60):.1f}",
            "Trusts (code)": str(10000 + trust) if trust < trusts else "",
            "Trusts (name)": f"Northern Learning Trust {trust:04d}" if trust < trusts else "",
            "UKPRN": str(10000000 + n),
            "OfstedLastInsp": "12-03-2022",
            "LastChangedDate": "01-11-2026",
            "Street": f"{rng.randint(1, 300)} Church Lane",
            "Town": town,
            "County (name)": "West Yorkshire",
            "Postcode": f"LS{n % 30} {n % 9}AB",
            "SchoolWebsite": f"https://www.school{n}.example.org.uk",
            "TelephoneNum": f"0113{rng.randint(1000000, 9999999)}",
            "HeadTitle (name)": "Mrs",
            "HeadFirstName": "Sarah",
            "HeadLastName": f"Smith-{n}",
            "HeadPreferredJobTitle": "Headteacher",
            "GOR (name)": "Yorkshire and the Humber",
            "DistrictAdministrative (code)": f"E0800{n % 100:04d}",
            "DistrictAdministrative (name)": town,
            "AdministrativeWard (name)": f"{town} Central",
            "ParliamentaryConstituency (name)": f"{town} North East",
            "UrbanRural (name)": "(England/Wales) Urban city and town",
            "Easting": str(rng.randint(400000, 450000)),
            "Northing": str(rng.randint(400000, 450000)),
            "MSOA (name)": f"{town} {n % 120:03d}",
            "LSOA (name)": f"{town} {n % 120:03d}A",
            "RSCRegion (name)": "Yorkshire and the Humber",
            "Country (name)": "United Kingdom",
            "UPRN": str(72000000000 + n),
            "MSOA (code)": f"E0200{n % 10000:04d}",
            "LSOA (code)": f"E0100{n % 10000:04d}",
            "FSM": str(rng.randint(0, 400)),
        }
    )
    return row


def write_extract(path: Path, establishments: int, later: bool) -> None:
    """A GIAS-shaped extract in Windows-1252, as GIAS publishes it."""
    rng = random.Random(14)
    trusts = max(establishments // 10, 10)
    with path.open("w", newline="", encoding="cp1252") as out:
        writer = csv.DictWriter(out, GIAS_COLUMNS)
        writer.writeheader()
        for n in range(establishments):
            writer.writerow(_row(rng, n, trusts, later))


SECRET_KEY = "benchmark-" * 5
QUEUE = "surveyapp-bench-gias"


def _app(url: str, redis_url: str | None = None):
    from surveyapp import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": SECRET_KEY,
            "ENV_NAME": "testing",
            "WTF_CSRF_ENABLED": False,
            "TWO_FACTOR_ROLES": [],
            "RATELIMIT_ENABLED": False,
            "SERVER_NAME": None,
            "REDIS_URL": redis_url,
            "JOB_QUEUE": QUEUE,
        }
    )


def build(url: str) -> None:
    """An empty register and a lead."""
    from surveyapp.auth.models import Role, User
    from surveyapp.auth.services import hash_password
    from surveyapp.extensions import db

    app = _app(url)
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.session.add(User(email=LEAD_EMAIL, name="Bench Lead", role=Role.LEAD, password_hash=hash_password(PASSWORD)))
        db.session.commit()


def _count_parses() -> list[int]:
    """Count every opening of a CSV file by the imports (wherever the reader is imported from)."""
    import surveyapp.csvfiles as csvfiles
    import surveyapp.establishments.importer as importer

    calls = [0]
    original = csvfiles.open_csv

    def counted(*args, **kwargs):
        calls[0] += 1
        return original(*args, **kwargs)

    for module in (csvfiles, importer):
        if hasattr(module, "open_csv"):
            module.open_csv = counted
    return calls


def run_step(url: str, step: str, path: Path, preview_url: str, redis_url: str | None = None) -> dict:
    """One step in this process: "preview" (upload, then show the preview) or "confirm"."""
    parses = _count_parses()
    app = _app(url, redis_url)
    client = app.test_client()
    with app.app_context():
        signed_in = client.post("/sign-in", data={"email": LEAD_EMAIL, "password": PASSWORD})
        assert signed_in.status_code == 302, signed_in.status_code
        client.get("/establishments/")  # warm the templates and the session
        data = path.read_bytes() if step == "preview" else b""  # the browser's copy, not the app's
        before = _rss_mb()
        started = time.perf_counter()
        if step == "preview":
            uploaded = client.post(
                "/establishments/import/establishments",
                data={"file": (io.BytesIO(data), "edubasealldata.csv")},
                content_type="multipart/form-data",
            )
            assert uploaded.status_code == 302, uploaded.get_data(as_text=True)[:3000]
            preview_url = uploaded.headers["Location"]
            page = client.get(preview_url)
            assert page.status_code == 200 and "Check the establishments import" in page.get_data(as_text=True)
        else:
            # The request ends on the job's page: without a queue the job has run in it, with one it waits.
            done = client.post(preview_url)
            assert done.status_code == 302 and done.headers["Location"].startswith("/jobs/"), done.status_code
            preview_url = done.headers["Location"]
        seconds = time.perf_counter() - started
        if step == "confirm" and not redis_url:
            result = client.get(preview_url).get_data(as_text=True)
            assert "Establishments imported:" in result, result[:3000]
    return {
        "seconds": seconds,
        "rss_before": before,
        "rss_peak": _rss_mb(),
        "parses": parses[0],
        "preview_url": preview_url,
    }


def _child(url: str, step: str, path: Path, preview_url: str = "", redis_url: str | None = None) -> dict:
    queue = ["--redis", redis_url] if redis_url else []
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.gias", url, "--child", step, "--file", str(path), "--url", preview_url]
        + queue,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_worker(url: str, redis_url: str, job_page: str) -> dict:
    """`surveyapp worker --burst` runs the queued import; the job's row is read meanwhile, as its page would."""
    import threading

    from sqlalchemy import create_engine, text

    env = {
        **os.environ,
        "SURVEYAPP_ENV": "testing",
        "SECRET_KEY": SECRET_KEY,
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "JOB_QUEUE": QUEUE,
        "SURVEYAPP_INSTANCE": str(FOLDER / "worker-instance"),
    }
    job_id = int(job_page.rsplit("/", 1)[1])
    engine = create_engine(url)
    seen: list[tuple[str, int, str]] = []
    stop = threading.Event()

    def watch() -> None:
        with engine.connect() as connection:
            while not stop.is_set():
                row = connection.execute(
                    text("SELECT state, done, message FROM jobs WHERE id = :id"), {"id": job_id}
                ).one()
                connection.rollback()
                if not seen or seen[-1] != tuple(row):
                    seen.append(tuple(row))
                time.sleep(0.1)

    watcher = threading.Thread(target=watch)
    watcher.start()
    # The worker under a wrapper of its own, whose children's peak is the worker's and its work horse's alone.
    wrapper = (
        "import resource, subprocess, sys; done = subprocess.run(sys.argv[1:]); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(done.returncode)"
    )
    started = time.perf_counter()
    worker = subprocess.run(
        [sys.executable, "-c", wrapper, str(Path(sys.executable).parent / "surveyapp"), "worker", "--burst"],
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    stop.set()
    watcher.join()
    assert worker.returncode == 0, worker.stderr[-3000:]
    with engine.connect() as connection:
        state, summary = connection.execute(
            text("SELECT state, summary FROM jobs WHERE id = :id"), {"id": job_id}
        ).one()
    engine.dispose()
    assert state == "done", summary
    peak = int(worker.stdout.strip().splitlines()[-1])
    importing = [message for _state, _done, message in seen if message.startswith("Importing ")]
    return {
        "seconds": seconds,
        "rss_peak": peak / 1024,
        "progress_seen": len(importing),
        "progress_sample": importing[len(importing) // 2] if importing else "",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", nargs="?", default=DEFAULT_URL)
    parser.add_argument("--scale", type=int, default=24000, help="establishments in the extract (24,000: national)")
    parser.add_argument("--child", choices=["preview", "confirm"], help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--url", default="", help=argparse.SUPPRESS)
    parser.add_argument("--redis", default=None, help="queue the import here and run it with `surveyapp worker`")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_step(args.database, args.child, args.file, args.url, args.redis)))
        return

    FOLDER.mkdir(exist_ok=True)
    first, later = FOLDER / f"first-{args.scale}.csv", FOLDER / f"later-{args.scale}.csv"
    write_extract(first, args.scale, later=False)
    write_extract(later, args.scale, later=True)
    build(args.database)
    load_before = os.getloadavg()
    print(f"{args.scale:,} establishments, {len(GIAS_COLUMNS)} columns; database {args.database.rsplit('/', 1)[-1]}")
    print(
        f"{'extract':<34}{'file MB':>8}{'step':>9}{'seconds':>9}{'peak RSS MB':>13}{'growth MB':>11}{'CSV parses':>12}"
    )
    for label, path in (("first (empty register: all new)", first), ("later (register full: changes)", later)):
        preview = _child(args.database, "preview", path)
        confirm = _child(args.database, "confirm", path, preview["preview_url"], args.redis)
        size = path.stat().st_size / 1e6
        for step, result in (("preview", preview), ("confirm", confirm)):
            growth = result["rss_peak"] - result["rss_before"]
            print(
                f"{label if step == 'preview' else '':<34}{f'{size:.1f}' if step == 'preview' else '':>8}{step:>9}"
                f"{result['seconds']:>9.2f}{result['rss_peak']:>13.0f}{growth:>11.0f}{result['parses']:>12}"
            )
        if args.redis:
            job = run_worker(args.database, args.redis, confirm["preview_url"])
            print(f"{'':<34}{'':>8}{'job':>9}{job['seconds']:>9.2f}{job['rss_peak']:>13.0f}")
            print(
                f'{"":<34}the job\'s page saw {job["progress_seen"]} of its "Importing ..." messages'
                + (f', e.g. "{job["progress_sample"]}"' if job["progress_sample"] else "")
            )
        print(f"{'':<34}confirm parsed the file: {'yes' if confirm['parses'] else 'no'}")
    load_after = os.getloadavg()
    print(f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after (2 cores, shared: time is noisy)")


if __name__ == "__main__":
    main()
