"""A demo city, Musterstadt: offices, services, hours, closures, clerks, kiosks and an administrator.

``demo.seed.seed_demo`` builds it (``manage.py seed_demo``); ``demo.city`` and
``demo.catalogue`` describe it. The top layer: it fills every other app.
"""
