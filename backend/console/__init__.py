"""The staff console (`/console/`): pages for sales, operations, admins and guides."""
