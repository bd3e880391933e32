/** Benchmark prompts: public-domain Jane Austen openings (the demo models' corpus). */
export const BENCH_PROMPTS = [
  'It is a truth universally acknowledged, that a single man in possession of a good fortune',
  'Emma Woodhouse, handsome, clever, and rich, with a comfortable home and happy disposition,',
  'The family of Dashwood had long been settled in Sussex. Their estate was large,',
  'Sir Walter Elliot, of Kellynch Hall, in Somersetshire, was a man who, for his own amusement,',
  'No one who had ever seen Catherine Morland in her infancy would have supposed her born',
  'About thirty years ago Miss Maria Ward, of Huntingdon, with only seven thousand pounds,',
  'Mr. Bennet was among the earliest of those who waited on Mr. Bingley.',
  'Mrs. Dashwood was surprised only for a moment at seeing him;',
];

/** ~200 tokens to rewrite (Persuasion, chapter 1). */
export const REWRITE_SELECTION =
  'Sir Walter Elliot, of Kellynch Hall, in Somersetshire, was a man who, for his own amusement, never took up any book but the Baronetage; there he found occupation for an idle hour, and consolation in a distressed one; there his faculties were roused into admiration and respect, by contemplating the limited remnant of the earliest patents; there any unwelcome sensations, arising from domestic affairs changed naturally into pity and contempt as he turned over the almost endless creations of the last century; and there, if every other leaf were powerless, he could read his own history with an interest which never failed. This was the page at which the favourite volume always opened: he had been remarkable for his personal appearance, and vain of his situation in life; he considered the blessing of beauty as inferior only to the blessing of a baronetcy, and the Sir Walter Elliot, who united these gifts, was the constant object of his warmest respect and devotion.';
