"""Calls no business job is for, in callers' words: wrong numbers, sales pitches, robocalls.

A caller much nearer these than to any attached job is answered "none" (engine.OFF_TOPIC_MARGIN),
whatever words they share with a job ("your business listing" is not a listing job). Keep the
list generic (any small business); it was written from general knowledge of nuisance calls,
never from the held-out routing sets.
"""

OFF_TOPIC: tuple[str, ...] = (
    # Wrong numbers and other businesses.
    "sorry, wrong number",
    "oops, I dialled the wrong number",
    "sorry, my kid was playing with my phone",
    "is this the pizza place",
    "is this the bank? I need to check my balance",
    "I'm trying to reach the doctor's office, is this still their number",
    "is this the school office",
    "is this the city council? I need to pay a parking ticket",
    "hello, is this the hotel front desk",
    # Sales pitches and vendors.
    "I'm calling to offer your business a great deal on our services",
    "we help businesses like yours get more customers online",
    "I'd like to talk to the owner about lowering your business costs",
    "we sell supplies and would love to give you a quote",
    "I'm calling about your business listing on Google",
    "you've been pre-approved for a business loan",
    # Robocalls and scams.
    "this is an automated message about your account, press one",
    "this is a recorded message, your account has been suspended",
    "congratulations, you've been selected for a special offer",
    "this is a courtesy call about your car's extended warranty",
    "you are eligible for a rebate on your energy bill",
    # Small talk and questions for nobody here.
    "can you tell me the weather tomorrow",
    "I'm just bored and wanted to chat",
    "do you know what time the bus comes",
)
