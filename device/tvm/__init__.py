"""The ticket vending machine: the purchase as a state machine, payment and printing, recovery."""
