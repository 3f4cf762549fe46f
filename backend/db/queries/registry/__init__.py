"""Registry SQL, one module a resource: sites, buildings, units and residents, assets, devices; seeding's
bulk ensure-inserts in `seeding`, what they share in `common`. Callers name the resource's module."""
