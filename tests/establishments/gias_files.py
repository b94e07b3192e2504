"""Build files shaped like the GIAS establishment extract (and contacts files) for the import tests.

GIAS publishes "edubasealldata" as Windows-1252 CSV with dates written dd-mm-yyyy,
a header row of ~130 columns of which the register needs about a dozen. The
header below keeps the real names and order of a realistic subset, including
columns the import ignores (codes next to names, ages, address, head teacher).
"""

from __future__ import annotations

import csv
import io

GIAS_HEADER = [
    "URN",
    "LA (code)",
    "LA (name)",
    "EstablishmentNumber",
    "EstablishmentName",
    "TypeOfEstablishment (code)",
    "TypeOfEstablishment (name)",
    "EstablishmentTypeGroup (code)",
    "EstablishmentTypeGroup (name)",
    "EstablishmentStatus (code)",
    "EstablishmentStatus (name)",
    "OpenDate",
    "CloseDate",
    "PhaseOfEducation (code)",
    "PhaseOfEducation (name)",
    "StatutoryLowAge",
    "StatutoryHighAge",
    "NumberOfPupils",
    "Trusts (code)",
    "Trusts (name)",
    "UKPRN",
    "Street",
    "Town",
    "Postcode",
    "DistrictAdministrative (code)",
    "DistrictAdministrative (name)",
    "HeadFirstName",
    "HeadLastName",
]

#: names with the characters Windows-1252 files carry: a curly apostrophe, an en dash, an accent, a comma
ST_MARYS = "St Mary’s Church of England Primary School"
OAKFIELD = "Oakfield Academy – Upper School"
NOTRE_DAME = "Notre Dame Catholic Sixth Form College, Leeds"
BRONTE = "Brontë House Nursery"


def gias_row(
    urn: str,
    name: str,
    *,
    type_name: str = "Community school",
    phase: str = "Primary",
    status: str = "Open",
    opened: str = "01-09-1990",
    closed: str = "",
    pupils: str = "210",
    trust_uid: str = "",
    trust_name: str = "",
    district: str = "Northtown",
    la_code: str = "202",
    la_name: str = "Camden",
) -> dict[str, str]:
    return {
        "URN": urn,
        "LA (code)": la_code,
        "LA (name)": la_name,
        "EstablishmentNumber": "2" + urn[-3:],
        "EstablishmentName": name,
        "TypeOfEstablishment (code)": "01",
        "TypeOfEstablishment (name)": type_name,
        "EstablishmentTypeGroup (code)": "4",
        "EstablishmentTypeGroup (name)": "Local authority maintained schools",
        "EstablishmentStatus (code)": "1" if status.startswith("Open") else "2",
        "EstablishmentStatus (name)": status,
        "OpenDate": opened,
        "CloseDate": closed,
        "PhaseOfEducation (code)": "2",
        "PhaseOfEducation (name)": phase,
        "StatutoryLowAge": "4",
        "StatutoryHighAge": "11",
        "NumberOfPupils": pupils,
        "Trusts (code)": trust_uid,
        "Trusts (name)": trust_name,
        "UKPRN": "1000" + urn[-4:],
        "Street": "1 School Lane",
        "Town": "Northtown",
        "Postcode": "NT1 1AA",
        "DistrictAdministrative (code)": "E09000007",
        "DistrictAdministrative (name)": district,
        "HeadFirstName": "Sam",
        "HeadLastName": "O’Neill",
    }


def standard_rows() -> list[dict[str, str]]:
    """Four establishments: two in one trust, one closed, names with awkward characters."""
    return [
        gias_row("100001", ST_MARYS, type_name="Voluntary aided school"),
        gias_row(
            "100002",
            OAKFIELD,
            type_name="Academy converter",
            phase="Secondary",
            pupils="1,150",
            trust_uid="5001",
            trust_name="Northern Lights Academy Trust – North",
            opened="2012-09-01",
        ),
        gias_row(
            "100003",
            NOTRE_DAME,
            type_name="Academy sponsor led",
            phase="16 plus",
            pupils="",
            trust_uid="5001",
            trust_name="Northern Lights Academy Trust – North",
            district="Southtown",
        ),
        gias_row(
            "100004",
            BRONTE,
            type_name="Local authority nursery school",
            phase="Nursery",
            status="Closed",
            closed="31-08-2024",
        ),
    ]


def to_csv(
    rows: list[dict[str, str]],
    header: list[str] | None = None,
    *,
    encoding: str = "cp1252",
    bom: bool = False,
    delimiter: str = ",",
) -> bytes:
    header = header or (list(rows[0]) if rows else GIAS_HEADER)
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(
        buffer, fieldnames=header, delimiter=delimiter, lineterminator="\r\n", extrasaction="ignore"
    )
    writer.writeheader()
    writer.writerows(rows)
    data = buffer.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def gias_csv(rows: list[dict[str, str]] | None = None, **kwargs) -> bytes:
    return to_csv(standard_rows() if rows is None else rows, GIAS_HEADER, **kwargs)


def contacts_csv(rows: list[dict[str, str]], header=("URN", "Trust UID", "Name", "Email", "Role"), **kwargs) -> bytes:
    return to_csv(rows, list(header), encoding=kwargs.pop("encoding", "utf-8"), **kwargs)
