"""Reads of the calls app, by topic; callers import the module they need
(`from calls.selectors import mock`):

- `mock`: what a Sona step routes against, mock calls turn by turn, AI-played calls, routing health;
- `log`: the Calls pages: filters, keyset pages, one call, the CSV export;
- `activity`: calls per day by outcome and since the last edit, for a job or a number;
- `reports`: what a call report (POST /api/v1/calls) is checked against, in one query.
"""
