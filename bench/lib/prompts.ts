/**
 * Benchmark prompts: email prose from the demo models' held-out split (SpamAssassin public
 * corpus, ham mail; data PDDL-1.0, contents CC0-1.0), which no demo model trains on.
 * Document ids: inference/training/heldout.json.
 */
export const BENCH_PROMPTS = [
  "I actually think you're looking in the wrong place.",
  'Maybe you could find more info or tips on the ALSA page for your card?',
  'I apologize for not catching up to the current code in so long.',
  'You might be better asking this on the spamassassin-talk list.',
  "This is my first time running Razor, heard a lot of good things about it so I thought I'd give it a shot.",
  'Last week my hands and shoulders were starting to really act up on me again.',
  "I have a couple of small issues, and I'm not sure if their exmh issues or my setup issues.",
  'And then, just as I was about to fall asleep, I figured it out.',
];

/** ~250 tokens to rewrite (held-out mail spam-assassin/easy-ham-1/00355). */
export const REWRITE_SELECTION =
  "My typical Java-to-C conversion doesn't increase the lines of code by more than 20%, and a fair portion of that is the implementation of additional features that drove us to do the conversion in the first place. Some things are substantially more succinct when written in C than in Java. C and most other mature languages have an endless collection of libraries. I personally don't use anything beyond the core libraries of any language that much though. On a tangent, I find libraries nearly useless for a great many things due primarily to the fact that most of them are so general that a given non-trivial API almost always has a context in which it will function in a pathological manner. Code reuse is wonderful and all that, but libraries frequently make design trade-offs that won't work for me even if they theoretically do exactly what I need. Unfortunately, it isn't particularly easy nor does it make a nice simple API to design a library that really is optimizable to a wide range of design cases.";
