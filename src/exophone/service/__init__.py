"""Use cases: search, buy, update, list, get, release, inventory and accounts.

Each public function is one unit of work: it opens one transaction on the
store and either completes or changes nothing.
"""
