"""``mm7 codes``: look result codes up in the LGT MM7 and Alim Talk tables.

Examples::

    mm7 codes 4030
    mm7 codes KKO_3018 --json
    mm7 codes Expired --table lgt --mapping my-carrier.csv
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from mm7client.codes import AlimTalkCode, CodeRow, CodeTable, MappingFileError, lookup

_TABLES = ("lgt", "alimtalk", "all")
_RESULT_TYPES = {0: "transport failure", 1: "submit ack", 2: "delivery report"}


def add_parser(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register the ``codes`` sub-command on ``subparsers``."""
    parser = subparsers.add_parser(
        "codes",
        help="look up result codes (LGT MM7, Alim Talk)",
        description="Print the table row(s) for each code: LGT MM7 status codes and "
        "MMStatus values, transport failures, Alim Talk codes.",
    )
    parser.add_argument("codes", nargs="+", metavar="CODE", help="e.g. 4030, Retrieved, KKO_3018")
    parser.add_argument(
        "--json", action="store_true", help="print JSON instead of text [default: text]"
    )
    parser.add_argument(
        "--table", choices=_TABLES, default="all", help="which table to search [default all]"
    )
    parser.add_argument(
        "--mapping",
        metavar="FILE",
        help="CSV mapping file overriding or extending the LGT table (same columns) "
        "[default: none, the shipped table]",
    )
    parser.set_defaults(func=run)


def _row_dict(row: CodeRow | AlimTalkCode) -> dict[str, Any]:
    table = "lgt" if isinstance(row, CodeRow) else "alimtalk"
    return {"table": table, **row.as_row()}


def _format_lgt(row: CodeRow) -> str:
    kind = _RESULT_TYPES.get(row.result_type, f"resultType {row.result_type}")
    category = str(row.category)
    if row.pause_seconds is not None:
        category += f" (pause {row.pause_seconds:g} s)"
    lines = [
        f"{row.origin_result} [{row.provider} {kind}]",
        f"  provider       {row.provider}",
        f"  msgType        {row.msg_type}",
        f"  resultType     {row.result_type}",
        f"  originResult   {row.origin_result}",
        f"  convertResult  {row.convert_result}",
        f"  resultMessage  {row.result_message}",
        f"  explanation    {row.explanation}",
        f"  category       {category}",
    ]
    return "\n".join(lines)


def _format_alimtalk(row: AlimTalkCode) -> str:
    lines = [
        f"{row.code} [Alim Talk {row.group}]",
        f"  category       {row.category}",
        f"  code           {row.code}",
        f"  description    {row.description}",
        f"  system         {row.system}",
    ]
    if row.outcome is not None:
        lines.append(f"  outcome        {row.outcome}")
    return "\n".join(lines)


def format_row(row: CodeRow | AlimTalkCode) -> str:
    """One human-readable block for a row."""
    return _format_lgt(row) if isinstance(row, CodeRow) else _format_alimtalk(row)


def run(args: argparse.Namespace) -> int:
    """Print the rows for ``args.codes``; 1 if a code matched nothing, 2 on a bad mapping file."""
    table = CodeTable.default()
    if args.mapping:
        try:
            table = table.with_overrides(args.mapping)
        except (OSError, MappingFileError) as exc:
            sys.stderr.write(f"mm7 codes: cannot load mapping {args.mapping}: {exc}\n")
            return 2
    rows: list[CodeRow | AlimTalkCode] = []
    missing: list[str] = []
    for code in args.codes:
        found = lookup(code, tables=args.table, table=table)
        if not found:
            missing.append(code)
        rows.extend(found)
    if args.json:
        sys.stdout.write(json.dumps([_row_dict(row) for row in rows], ensure_ascii=False, indent=2))
        sys.stdout.write("\n")
    elif rows:
        sys.stdout.write("\n\n".join(format_row(row) for row in rows) + "\n")
    for code in missing:
        sys.stderr.write(f"mm7 codes: no {_table_name(args.table)} row for {code!r}\n")
    return 1 if missing else 0


def _table_name(table: str) -> str:
    return {"lgt": "LGT", "alimtalk": "Alim Talk", "all": "LGT or Alim Talk"}[table]


def main(argv: list[str] | None = None) -> int:
    """Run ``codes`` stand-alone (``python -m mm7client.cli.codes 4030``)."""
    parser = argparse.ArgumentParser(prog="mm7")
    subparsers = parser.add_subparsers(dest="command", required=True)
    add_parser(subparsers)
    args = parser.parse_args(["codes", *(sys.argv[1:] if argv is None else argv)])
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
