"""A synthetic stand-in corpus for `--tiny` (CI): raw RFC 822 messages with headers, quoted
replies, signatures and list footers, generated from templates written for Flywheel (no
third-party text), then cleaned by the same code as the real corpus. Deterministic."""
from __future__ import annotations

import random

import corpus

NAMES = ["Alice", "Bob", "Carol", "Dan", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy"]
TOPICS = ["the build", "the release", "the mail server", "the backup job", "the new laptop", "the test suite",
          "the meeting notes", "the budget", "the conference trip", "the website"]
OPENERS = ["Hi {n},", "Hello all,", "Hi everyone,", "Thanks for the quick reply, {n}.", "Dear {n},"]
SENTENCES = [
    "I had a look at {t} this morning and it seems to work again.",
    "Please let me know if you have any questions about {t}.",
    "Does anyone know how to restart {t} without losing the logs?",
    "I think we should move {t} to next week, because the team is busy.",
    "We are going to need a bit more time to finish {t}.",
    "Could you send me the latest numbers for {t} before Friday?",
    "It is not clear to me why {t} failed last night.",
    "I will be out of the office on Monday, so {n} will handle {t}.",
    "Thanks again for your help with {t}, it made a real difference.",
    "The problem with {t} is that nobody has tested it on the old machines.",
    "I don't think there is a quick fix, but I can try a few things.",
    "Let me know what you think and I will update the plan.",
]
CLOSERS = ["Best regards,", "Thanks,", "Cheers,", "See you tomorrow,"]
SPEECH = [
    "Our economy is stronger than it was a year ago, and we must keep it growing.",
    "We will invest in schools, in roads and in the research that creates new jobs.",
    "Tonight I ask the Congress to work with me on a budget that is fair to every family.",
    "The state of our union is strong, because our people are strong.",
    "We have made progress, but there is more work to do in every town in this country.",
]


def _message(rng: random.Random, i: int) -> bytes:
    n = rng.choice(NAMES)
    t = rng.choice(TOPICS)
    body = [rng.choice(OPENERS).format(n=n), ""]
    for _ in range(rng.randint(2, 4)):
        para = " ".join(rng.choice(SENTENCES).format(n=rng.choice(NAMES), t=rng.choice(TOPICS))
                        for _ in range(rng.randint(1, 3)))
        body += [para, ""]
    if rng.random() < 0.5:
        body = [f"On Mon, 2 Sep 2002, {n} wrote:", f"> What about {t}?", "> It broke again.", ""] + body
    body += [rng.choice(CLOSERS), rng.choice(NAMES), "-- ", f"{n} | Example Corp | http://example.com/", "",
             "_______________________________________________", "Example-list mailing list"]
    head = (f"From: {n} <{n.lower()}@example.com>\nTo: list@example.com\nSubject: Re: {t}\n"
            f"Message-Id: <{i}@example.com>\nContent-Type: text/plain; charset=us-ascii\n\n")
    return (head + "\n".join(body) + "\n").encode()


def documents(n_mail: int = 90, seed: int = 0) -> list[corpus.Document]:
    rng = random.Random(seed)
    docs = []
    for i in range(n_mail):
        raw = _message(rng, i)
        text = corpus.normalize_chars(corpus.clean_mail_body(corpus.mail_text(raw)))
        docs.append(corpus.Document(id=f"synthetic/mail/{i:04d}", source="mail", text=text))
    for i in range(6):
        paras = [" ".join(rng.sample(SPEECH, 3)) for _ in range(4)]
        docs.append(corpus.Document(id=f"synthetic/speech/{i:02d}", source="speech", text="\n\n".join(paras)))
    return docs
