"""Write services of the crm app: every model write goes through one of these (STYLE rule 1)."""
