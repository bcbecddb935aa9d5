"""Database helpers shared by the apps (vendor-specific migrations, bulk SQL)."""
