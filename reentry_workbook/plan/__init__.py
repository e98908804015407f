"""What a plan is: the one declaration of the workbook, the plan model, the rule catalogue, IDs, dates and
plain-language descriptions. Imports only the standard library, ``reentry_workbook.errors`` and ``xlsx``."""
