"""What a plan is: the one declaration of the workbook, the plan model (with what a plan means and how to walk
its chain of service), the plan as pandas DataFrames, the rule catalogue, IDs, dates and plain-language
descriptions. Imports only the standard library, ``reentry_workbook.errors`` and ``xlsx``; pandas only inside
the functions of ``frames``."""
