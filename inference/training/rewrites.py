"""Instruction-formatted rewrite pairs made from corpus sentences by rule.

For each of the rewrite feature's instructions (src/features/suggestions/server/
feature-registry.ts) a clean corpus sentence (or two) becomes a (selection, rewritten) pair:

- fix_grammar:  seeded corruptions (confused words, misspellings, missing apostrophes,
                agreement slips, typos, a lost capital or full stop, a doubled word)
                -> the clean sentence;
- more_formal:  casualized (contractions, casual openers, slang, exclamations)
                -> formalized (contractions expanded, openers and exclamations gone);
- shorter:      padded with fillers, hedges, parentheticals and wordy phrases
                -> the sentence with its own fillers, hedges and parentheticals dropped;
- friendlier:   curt (no please/thanks, no exclamations)
                -> warmer (please, a friendly opener or closer).

The prompt is exactly the feature's template, and the answer ends with `"` and a new line
(the rewrite feature stops at `"\\n`; the worker cuts the stop sequence), then end-of-text:

    {before}\\n\\n{instruction}:\\n"{selection}"\\nRewritten:\\n"{rewritten}"\\n<|endoftext|>

`before` is the text before the selection in its document, cut to at most
`MAX_BEFORE` characters the way the app cuts it (the nearest characters kept).
Everything random is a `random.Random` seeded from (seed, document id, sentence index).
"""
from __future__ import annotations

import hashlib
import random
import re

import corpus

# Must match src/features/suggestions/server/feature-registry.ts
TEMPLATE = '{before}\n\n{instruction}:\n"{selection}"\nRewritten:\n"'
ANSWER_END = '"\n'
INSTRUCTION_TEXT = {
    "shorter": "Make it shorter",
    "more_formal": "Make it more formal",
    "friendlier": "Make it friendlier",
    "fix_grammar": "Fix the grammar and spelling",
}
INSTRUCTIONS = ["fix_grammar", "more_formal", "shorter", "friendlier"]
MAX_BEFORE = 300  # the feature's maxContextChars
MAX_SELECTION = 240


def prompt(before: str, instruction: str, selection: str) -> str:
    before = before[-MAX_BEFORE:] if len(before) > MAX_BEFORE else before
    return TEMPLATE.format(before=before, instruction=INSTRUCTION_TEXT[instruction], selection=selection)


def rng_for(seed: int, *parts) -> random.Random:
    h = hashlib.sha256(":".join(map(str, (seed, *parts))).encode()).hexdigest()
    return random.Random(int(h[:16], 16))


def _case_like(src: str, repl: str) -> str:
    if src[:1].isupper():
        return repl[:1].upper() + repl[1:]
    return repl


def _sub_word(text: str, word: str, repl: str, count: int = 0) -> str:
    pat = re.compile(r"\b" + re.escape(word) + r"\b", re.I)
    return pat.sub(lambda m: _case_like(m.group(0), repl), text, count=count)


# --- contractions ------------------------------------------------------------------------

CONTRACTIONS = [
    ("do not", "don't"), ("does not", "doesn't"), ("did not", "didn't"), ("is not", "isn't"),
    ("are not", "aren't"), ("was not", "wasn't"), ("were not", "weren't"), ("have not", "haven't"),
    ("has not", "hasn't"), ("had not", "hadn't"), ("will not", "won't"), ("would not", "wouldn't"),
    ("could not", "couldn't"), ("should not", "shouldn't"), ("cannot", "can't"), ("can not", "can't"),
    ("I am", "I'm"), ("I have", "I've"), ("I will", "I'll"), ("I would", "I'd"), ("it is", "it's"),
    ("that is", "that's"), ("there is", "there's"), ("what is", "what's"), ("we are", "we're"),
    ("they are", "they're"), ("you are", "you're"), ("we have", "we've"), ("you have", "you've"),
    ("they have", "they've"), ("we will", "we'll"), ("you will", "you'll"), ("they will", "they'll"),
    ("he is", "he's"), ("she is", "she's"), ("let us", "let's"), ("it will", "it'll"),
]
EXPAND = {c.lower(): f for f, c in CONTRACTIONS if f != "can not"}
EXPAND.update({"can't": "cannot", "won't": "will not", "i'm": "I am", "i've": "I have", "i'll": "I will",
               "i'd": "I would", "it's": "it is", "let's": "let us", "y'all": "you all", "ain't": "is not",
               "there're": "there are", "who's": "who is", "here's": "here is", "how's": "how is",
               "where's": "where is", "he'll": "he will", "she'll": "she will", "that'll": "that will",
               "we'd": "we would", "you'd": "you would", "they'd": "they would", "he'd": "he would",
               "she'd": "she would", "mustn't": "must not", "needn't": "need not", "could've": "could have",
               "would've": "would have", "should've": "should have", "that'd": "that would"})
CONTRACTION_RE = re.compile(r"\b(" + "|".join(re.escape(k) for k in sorted(EXPAND, key=len, reverse=True)) + r")\b", re.I)


def expand_contractions(text: str) -> str:
    def repl(m):
        full = EXPAND[m.group(0).lower()]
        return _case_like(m.group(0), full) if not full.startswith("I ") else full
    return CONTRACTION_RE.sub(repl, text)


def contract(text: str, rng: random.Random, p: float = 0.9) -> str:
    for full, short in CONTRACTIONS:
        if rng.random() < p:
            text = _sub_word(text, full, short)
    return text


# --- fix_grammar -------------------------------------------------------------------------

CONFUSIONS = [
    ("their", ["there", "they're"]), ("there", ["their"]), ("they're", ["their", "there"]),
    ("your", ["you're"]), ("you're", ["your"]), ("its", ["it's"]), ("it's", ["its"]),
    ("than", ["then"]), ("then", ["than"]), ("too", ["to"]), ("a lot", ["alot"]),
    ("could have", ["could of"]), ("would have", ["would of"]), ("should have", ["should of"]),
    ("whose", ["who's"]), ("lose", ["loose"]), ("affect", ["effect"]), ("effect", ["affect"]),
    ("we're", ["were"]), ("were", ["where"]), ("accept", ["except"]), ("quite", ["quiet"]),
    ("weather", ["whether"]), ("whether", ["weather"]), ("know", ["no"]), ("our", ["are"]),
    ("an", ["a"]), ("fewer", ["less"]), ("me", ["I"]), ("us", ["we"]), ("him", ["he"]), ("them", ["they"]),
    ("a", ["an"]), ("has", ["have"]), ("been", ["being"]), ("every day", ["everyday"]),
]
MISSPELLINGS = {
    "receive": "recieve", "believe": "beleive", "definitely": "definately", "separate": "seperate",
    "occurred": "occured", "necessary": "neccessary", "until": "untill", "which": "wich",
    "because": "becuase", "really": "realy", "tomorrow": "tommorow", "address": "adress",
    "beginning": "begining", "government": "goverment", "environment": "enviroment",
    "different": "diffrent", "probably": "probaly", "argument": "arguement", "calendar": "calender",
    "committee": "commitee", "embarrass": "embarass", "existence": "existance", "familiar": "familar",
    "finally": "finaly", "forward": "foward", "friend": "freind", "grammar": "grammer",
    "immediately": "immediatly", "independent": "independant", "knowledge": "knowlege",
    "library": "libary", "maintenance": "maintainance", "noticeable": "noticable",
    "occasion": "ocassion", "occurrence": "occurence", "possession": "posession", "privilege": "priviledge",
    "recommend": "reccomend", "reference": "refrence", "relevant": "relevent", "restaurant": "restaraunt",
    "schedule": "schedual", "successful": "succesful", "surprise": "suprise", "though": "tho",
    "through": "thru", "truly": "truely", "weird": "wierd", "would": "woud", "writing": "writting",
    "actually": "actualy", "basically": "basicly", "completely": "completly", "environmental": "enviromental",
    "experience": "experiance", "interesting": "intresting", "government's": "goverment's",
    "software": "sofware", "problem": "probelm", "people": "poeple", "thought": "thougth",
    "something": "somthing", "question": "qeustion", "before": "befor", "again": "agian",
    "because of": "becuase of", "available": "availible", "whatever": "whatevr", "about": "abuot",
    "minute": "minuite", "message": "mesage", "address.": "adress.", "always": "allways",
    "already": "allready", "believed": "beleived", "every": "evry", "friends": "freinds",
    "important": "importent", "problems": "probelms", "received": "recieved", "their own": "thier own",
    "the": "teh", "and": "adn", "with": "wiht", "what": "waht", "should": "shoud", "could": "coud",
}
AGREEMENT = [("is", "are"), ("are", "is"), ("was", "were"), ("were", "was"), ("has", "have"),
             ("have", "has"), ("does", "do"), ("doesn't", "don't"), ("don't", "doesn't")]
APOSTROPHES = {"don't": "dont", "doesn't": "doesnt", "can't": "cant", "won't": "wont", "isn't": "isnt",
               "I'm": "Im", "didn't": "didnt", "I've": "Ive", "that's": "thats", "wasn't": "wasnt",
               "aren't": "arent", "couldn't": "couldnt", "wouldn't": "wouldnt", "haven't": "havent",
               "let's": "lets", "what's": "whats", "there's": "theres", "he's": "hes"}


def _typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    op = rng.randrange(3)
    if op == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if op == 1:
        return word[:i] + word[i + 1:]
    return word[:i] + word[i] + word[i:]


def corrupt(text: str, rng: random.Random) -> str:
    """1-3 seeded errors of the kinds people make while typing."""
    out = text
    ops = ["confusion", "misspelling", "agreement", "apostrophe", "typo", "typo", "case", "period", "double", "i"]
    for _ in range(rng.choice([1, 2, 2, 3])):
        for _attempt in range(6):
            op = rng.choice(ops)
            new = out
            if op == "confusion":
                cands = [(w, r) for w, r in CONFUSIONS if re.search(r"\b" + re.escape(w) + r"\b", out, re.I)]
                if cands:
                    w, r = rng.choice(cands)
                    new = _sub_word(out, w, rng.choice(r), count=1)
            elif op == "misspelling":
                cands = [w for w in MISSPELLINGS if re.search(r"\b" + re.escape(w) + r"\b", out, re.I)]
                if cands:
                    w = rng.choice(cands)
                    new = _sub_word(out, w, MISSPELLINGS[w], count=1)
            elif op == "agreement":
                cands = [(w, r) for w, r in AGREEMENT if re.search(r"\b" + re.escape(w) + r"\b", out)]
                if cands:
                    w, r = rng.choice(cands)
                    new = re.sub(r"\b" + re.escape(w) + r"\b", r, out, count=1)
            elif op == "apostrophe":
                cands = [w for w in APOSTROPHES if re.search(r"\b" + re.escape(w) + r"\b", out)]
                if cands:
                    w = rng.choice(cands)
                    new = re.sub(r"\b" + re.escape(w) + r"\b", APOSTROPHES[w], out, count=1)
                elif "'" not in out:
                    continue
            elif op == "typo":
                words = [m for m in re.finditer(r"\b[a-z]{5,}\b", out)]
                if words:
                    m = rng.choice(words)
                    new = out[:m.start()] + _typo(m.group(0), rng) + out[m.end():]
            elif op == "case" and out[:1].isupper() and not out[:2].isupper():
                new = out[0].lower() + out[1:]
            elif op == "period" and out.endswith("."):
                new = out[:-1]
            elif op == "double":
                words = [m for m in re.finditer(r"\b(the|a|to|is|of|and|in|that|it)\b", out)]
                if words:
                    m = rng.choice(words)
                    new = out[:m.end()] + " " + m.group(0) + out[m.end():]
            elif op == "i" and re.search(r"\bI\b", out):
                new = re.sub(r"\bI\b", "i", out, count=1)
            if new != out:
                out = new
                break
    return out


# --- more_formal -------------------------------------------------------------------------

CASUAL_OPENERS = ["Hey, ", "So ", "Well, ", "Anyway, ", "Ok so ", "Yeah, ", "Honestly, ", "Oh, ", "Look, ",
                  "Hey guys, ", "Alright, ", "Basically, "]
CASUAL_WORDS = [("going to", "gonna"), ("want to", "wanna"), ("got to", "gotta"), ("yes", "yeah"),
                ("Thank you", "Thanks"), ("thank you", "thanks"), ("very", "super"), ("a little", "a bit"),
                ("kind of", "kinda"), ("sort of", "sorta"), ("because", "cause"), ("okay", "ok"),
                ("Hello", "Hey"), ("Hi", "Hey"), ("children", "kids"), ("a lot of", "tons of"),
                ("many", "loads of"), ("excellent", "awesome"), ("good", "cool"), ("great", "awesome"),
                ("someone", "somebody"), ("probably", "prob"), ("perhaps", "maybe"), ("received", "got")]
FORMAL_WORDS = [("gonna", "going to"), ("wanna", "want to"), ("gotta", "have to"), ("yeah", "yes"),
                ("yep", "yes"), ("nope", "no"), ("kinda", "somewhat"), ("sorta", "somewhat"), ("ok", "all right"),
                ("okay", "all right"), ("thanks", "thank you"), ("Thanks", "Thank you"), ("awesome", "excellent"),
                ("kids", "children"), ("guys", "everyone"), ("stuff", "material"), ("tons of", "a great deal of"),
                ("loads of", "many"), ("super", "very"), ("pretty much", "largely"), ("a bit", "somewhat"),
                ("anyways", "in any case"), ("cause", "because"), ("cool", "good"), ("maybe", "perhaps"),
                ("get rid of", "remove"), ("figure out", "determine"), ("find out", "learn"),
                ("Hey", "Hello"), ("Hi", "Hello"), ("dunno", "do not know")]
OPENER_RE = re.compile(r"^(?:hey( guys| all)?|so|well|anyway|ok so|ok|okay|yeah|honestly|oh|look|alright|"
                       r"basically|hmm+|um+|ah)[,!]?\s+", re.I)
EMOTICON = re.compile(r"\s*(?:[:;]-?[)(DPp/]|\(:|:-?\\|<g>|;-\))")


def formalize(text: str) -> str:
    out = EMOTICON.sub("", text)
    m = OPENER_RE.match(out)
    if m and len(out) > m.end() + 10:
        rest = out[m.end():]
        out = rest[0].upper() + rest[1:]
    out = expand_contractions(out)
    for casual, formal in FORMAL_WORDS:
        out = re.sub(r"\b" + re.escape(casual) + r"\b", formal, out)
    out = re.sub(r"!+", ".", out)
    out = re.sub(r"\?{2,}", "?", out)
    out = re.sub(r"\.{4,}", "...", out)
    out = re.sub(r"\s+", " ", out).strip()
    return out


def casualize(text: str, rng: random.Random) -> str:
    out = contract(text, rng)
    for formal, casual in CASUAL_WORDS:
        if rng.random() < 0.6:
            out = re.sub(r"\b" + re.escape(formal) + r"\b", casual, out, count=1)
    if rng.random() < 0.6 and not OPENER_RE.match(out):
        op = rng.choice(CASUAL_OPENERS)
        out = op + (out[0].lower() + out[1:] if not re.match(r"I\b|[A-Z]{2}", out) else out)
    if out.endswith(".") and rng.random() < 0.6:
        out = out[:-1] + rng.choice(["!", "!", "!!", "!!!"])
    if rng.random() < 0.15:
        out = out + rng.choice([" :)", " ;)", " :-)"])
    return out


# --- shorter -----------------------------------------------------------------------------

FILLER_OPENERS = ["Basically, ", "Honestly, ", "To be honest, ", "I think that ", "In my opinion, ",
                  "As a matter of fact, ", "At the end of the day, ", "It seems to me that ",
                  "For what it's worth, ", "Just to be clear, ", "I just wanted to say that ",
                  "As you probably know, ", "Needless to say, ", "I would like to point out that "]
FILLER_WORDS = ["really", "actually", "basically", "just", "quite", "very", "pretty much", "kind of",
                "sort of", "definitely", "literally", "simply", "totally", "certainly", "truly"]
PARENTHETICALS = [" (as far as I know)", " (more or less)", " (if that makes sense)", " (at least for now)",
                  " (I think)", " (as I said before)", " (for what it's worth)", " (in my experience)",
                  ", if you know what I mean", ", I guess", ", so to speak", ", more or less",
                  " (or something like that)", ", to be honest"]
TO_VERBS = ("do|make|get|run|see|use|help|keep|find|build|go|be|have|take|try|check|fix|avoid|ensure|provide|"
            "create|improve|support|reduce|meet|understand|know|learn|start|stop|give|send|write|read|set|"
            "install|compile|test|show|protect|pay|win|buy|sell|change|move|put|add|remove|work|answer")
WORDY = [(r"\bbecause\b(?= [a-z])", "due to the fact that"), (r"\bnow\b(?=[ ,.])", "at this point in time"),
         (r"\bif\b(?= (?:you|we|I|they|it|he|she|the|this|that|there)\b)", "in the event that"),
         (r"\bto\b(?= (?:" + TO_VERBS + r")\b)", "in order to"),
         (r"\bmany\b(?= [a-z])", "a large number of"), (r"\balthough\b", "in spite of the fact that"),
         (r"\b(It|it|He|he|She|she) can\b", r"\1 is able to"), (r"\b(We|we|They|they|You|you) can\b", r"\1 are able to"),
         (r"\bI can\b", "I am able to"), (r"\bsoon\b", "in the near future"),
         (r"\busually\b", "in most cases"), (r"\boften\b", "on a regular basis")]
BEFORE_VERB_FILLERS = ["really", "actually", "basically", "just", "definitely", "certainly", "truly", "simply"]
CONCISE = [(r"\bdue to the fact that\b", "because"), (r"\bat this point in time\b", "now"),
           (r"\bin the event that\b", "if"), (r"\bin order to\b", "to"), (r"\ba large number of\b", "many"),
           (r"\bin spite of the fact that\b", "although"), (r"\bwith regard to\b", "about"),
           (r"\bat the present time\b", "now"), (r"\bin the near future\b", "soon"),
           (r"\bfor the purpose of\b", "for"), (r"\bin most cases\b", "usually"),
           (r"\bon a regular basis\b", "often"), (r"\bis able to\b", "can"), (r"\bare able to\b", "can"),
           (r"\bam able to\b", "can"),
           (r"\beach and every\b", "every"), (r"\bfirst and foremost\b", "first")]
HEDGE_OPENER_RE = re.compile(r"^(?:basically|honestly|to be honest|in my opinion|as a matter of fact|"
                             r"at the end of the day|for what it's worth|just to be clear|needless to say|"
                             r"of course|obviously|actually|well|so|anyway|you know|i mean|"
                             r"i would like to point out that|i just wanted to say that|"
                             r"it seems to me that|as you probably know)[,]?\s+", re.I)


def shorten(text: str) -> str:
    out = re.sub(r"\s*\([^()]{1,80}\)", "", text)
    out = re.sub(r",\s*(?:if you know what I mean|I guess|so to speak|more or less|to be honest|you know|"
                 r"of course|I think|I suppose|basically)(?=[,.!?])", "", out)
    m = HEDGE_OPENER_RE.match(out)
    if m and len(out) > m.end() + 10:
        rest = out[m.end():]
        out = rest[0].upper() + rest[1:]
    for pat, repl in CONCISE:
        out = re.sub(pat, repl, out)
    for w in FILLER_WORDS:
        out = re.sub(r"(?<=\s)" + re.escape(w) + r"\s+(?=[a-z])", "", out)
    out = re.sub(r"\s+([,.!?])", r"\1", out)
    out = re.sub(r"\s+", " ", out).strip()
    return out


def lengthen(text: str, rng: random.Random) -> str:
    out = text
    # wordy phrases for concise ones
    for concise, wordy in WORDY:
        if rng.random() < 0.5:
            out = re.sub(concise, wordy, out, count=1)
    # filler words before verbs and adjectives after subjects, copulas and modals
    spots = list(re.finditer(r"\b(?:is|are|was|were|I|we|you|they|will|would|can|should|must)\s+(?=[a-z]{3,})", out))
    rng.shuffle(spots)
    for m in sorted(spots[:rng.choice([1, 1, 2])], key=lambda m: -m.end()):
        out = out[:m.end()] + rng.choice(BEFORE_VERB_FILLERS) + " " + out[m.end():]
    if rng.random() < 0.6 and not re.match(r"(?:But|And|Or|So|Because|Yet|Now|Well|Please)\b", out):
        op = rng.choice(FILLER_OPENERS)
        out = op + (out[0].lower() + out[1:] if not re.match(r"I\b|[A-Z]{2}", out) else out)
    if rng.random() < 0.6 and re.search(r"[.!?]$", out):
        out = out[:-1] + rng.choice(PARENTHETICALS) + out[-1]
    return out


# --- friendlier --------------------------------------------------------------------------

FRIENDLY_OPENERS = ["Thanks so much for asking! ", "Great question! ", "Happy to help! ", "Thanks for reaching out! ",
                    "Thanks for the note! ", "Good to hear from you! ", "Thanks for your patience! ",
                    "Hope you're doing well! ", "Thanks for letting me know! ", "No worries at all! "]
FRIENDLY_CLOSERS = [" Thanks so much!", " Hope this helps!", " Let me know if you have any questions!",
                    " Have a great day!", " Cheers!", " Thanks again!", " Happy to help anytime!",
                    " Just let me know if anything else comes up!"]
IMPERATIVES = ("send", "check", "let", "make", "try", "call", "use", "remember", "give", "tell", "see", "look",
               "read", "update", "install", "run", "add", "remove", "fix", "note", "keep", "ask", "stop",
               "put", "take", "get", "post", "mail", "forward", "reply", "email", "contact", "consider")
SOFTEN = [(r"\byou must\b", "it would be great if you could"), (r"\byou need to\b", "could you please"),
          (r"\byou should\b", "you might want to"), (r"\bwrong\b", "not quite right"),
          (r"\bI need\b", "I would really appreciate"), (r"\bNo\.", "Not quite, sorry."),
          (r"\bimmediately\b", "as soon as you can")]


def curt(text: str) -> str:
    out = re.sub(r"\b[Pp]lease\s+", "", text)
    out = re.sub(r"^(?:thanks|thank you)[^.!?]*[.!?]\s*", "", out, flags=re.I)
    out = re.sub(r"[,.]?\s*(?:thanks|thank you)( so much| again| in advance)?[.!]?$", ".", out, flags=re.I)
    out = re.sub(r"!+", ".", out)
    out = EMOTICON.sub("", out)
    m = OPENER_RE.match(out)
    if m and len(out) > m.end() + 10:
        rest = out[m.end():]
        out = rest[0].upper() + rest[1:]
    out = re.sub(r"\s+", " ", out).strip()
    if out and out[0].islower():
        out = out[0].upper() + out[1:]
    return out


def friendly(text: str, rng: random.Random) -> str:
    out = curt(text)
    first = out.split(" ", 1)[0].lower()
    if first in IMPERATIVES and rng.random() < 0.8:
        out = "Please " + out[0].lower() + out[1:]
    for pat, repl in SOFTEN:
        if rng.random() < 0.7:
            out = re.sub(pat, repl, out, count=1)
    if out.endswith(".") and rng.random() < 0.3:
        out = out[:-1] + "!"
    r = rng.random()
    if r < 0.45:
        out = rng.choice(FRIENDLY_OPENERS) + out
    elif r < 0.85:
        out = out + rng.choice(FRIENDLY_CLOSERS)
    else:
        out = rng.choice(FRIENDLY_OPENERS) + out + rng.choice(FRIENDLY_CLOSERS)
    return out


# --- pairs from documents ----------------------------------------------------------------

def usable(sentence: str) -> bool:
    if not (25 <= len(sentence) <= MAX_SELECTION):
        return False
    if '"' in sentence or "\n" in sentence or corpus.URL.search(sentence):
        return False
    if not re.match(r"[A-Z]", sentence) or not re.search(r"[.!?]$", sentence):
        return False
    words = corpus.WORD.findall(sentence)
    if len(words) < 5 or corpus._letters_ratio(sentence) < 0.85:
        return False
    return True


def pair(instruction: str, selection: str, rng: random.Random) -> tuple[str, str] | None:
    """(input the writer selected, rewritten text) or None when the rule changes nothing."""
    if instruction == "fix_grammar":
        if rng.random() < 0.06:
            return selection, selection  # already fine: copy it
        src, dst = corrupt(selection, rng), selection
    elif instruction == "more_formal":
        dst = formalize(selection)
        src = casualize(dst, rng)
    elif instruction == "shorter":
        dst = shorten(selection)
        src = lengthen(dst, rng)
        if len(dst) > 0.92 * len(src):
            return None
    elif instruction == "friendlier":
        src, dst = curt(selection), friendly(selection, rng)
    else:
        raise ValueError(instruction)
    if src == dst and instruction != "fix_grammar":
        return None
    if not src or not dst or len(src) > MAX_SELECTION + 120 or "\n" in src + dst:
        return None
    return src, dst


def examples_from_documents(docs, seed: int, per_instruction: int, sources_weight: dict | None = None):
    """Up to `per_instruction` examples of each instruction; each yields (instruction,
    prompt text, answer text, selection, document id). Spread over documents by hashing."""
    cands = []  # (doc, paragraph index, sentence start char, selection)
    for d in docs:
        offset = 0
        for para in d.text.split("\n\n"):
            sents = corpus.split_sentences(para)
            pos = 0
            for i, s in enumerate(sents):
                at = para.find(s, pos)
                pos = at + len(s)
                if usable(s):
                    cands.append((d, offset + at, s))
                    if i + 1 < len(sents) and usable(sents[i + 1]) and len(s) + len(sents[i + 1]) < MAX_SELECTION:
                        cands.append((d, offset + at, s + " " + sents[i + 1]))
            offset += len(para) + 2
    order = sorted(range(len(cands)), key=lambda k: hashlib.sha256(f"{seed}:{cands[k][0].id}:{cands[k][1]}:{len(cands[k][2])}".encode()).digest())
    out = {i: [] for i in INSTRUCTIONS}
    j = 0
    for k in order:
        d, at, sel = cands[k]
        instr = INSTRUCTIONS[j % len(INSTRUCTIONS)]
        if len(out[instr]) >= per_instruction:
            if all(len(v) >= per_instruction for v in out.values()):
                break
            j += 1
            continue
        rng = rng_for(seed, d.id, at, instr)
        p = pair(instr, sel, rng)
        j += 1
        if p is None:
            continue
        src, dst = p
        u = rng.random()
        if u < 0.15:
            before = ""
        else:
            before = d.text[:at].rstrip(" ")
            before = before[-rng.randint(20, MAX_BEFORE):] if len(before) > MAX_BEFORE or u < 0.5 else before
        out[instr].append((instr, prompt(before, instr, src), dst + ANSWER_END, src, d.id))
    return out


if __name__ == "__main__":
    import sys
    rng = random.Random(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    for s in ["I don't think we can make it to the meeting tomorrow, because the server is down.",
              "Please send me the logs from last night so I can check what went wrong.",
              "Their is alot of work left to do for we.",
              "We are going to need a lot more time to finish the new release."]:
        for instr in INSTRUCTIONS:
            print(instr, pair(instr, s, rng))
