"""STUB: replaced by the router branch (LLM-generated replies)."""


def sona_reply(job_name, instructions, passages, greeting, said, history):
    return "", ""
