"""HTTP endpoints of the crm app outside the back-office: the chat widget's boot."""
