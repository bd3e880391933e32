/** Input limits of the suggestion endpoints, shared by their schemas and the page (no I/O). */

/** The most characters a rewrite takes as its selection. */
export const MAX_REWRITE_SELECTION_CHARS = 4000;
