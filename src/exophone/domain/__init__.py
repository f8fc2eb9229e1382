"""Pure values and rules: numbers, types, regions, prices, patterns and errors.

Nothing here touches a database, the network or the clock.
"""
