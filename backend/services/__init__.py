"""Business operations, one module per concern. Each public function is one operation inside
the caller's transaction (`backend.db.transaction()`); none of them commits."""
