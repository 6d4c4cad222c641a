#ifndef QUEUETOP_CNCURSESW_SHIM_H
#define QUEUETOP_CNCURSESW_SHIM_H
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#include <locale.h>
#include <langinfo.h>
#include <ncursesw/ncurses.h>

/* Swift 6 rejects mutable C globals (stdscr, LINES, COLS, COLORS) as not concurrency-safe,
   so the Curses module reads them through these accessors. */
static inline WINDOW *qt_stdscr(void) { return stdscr; }
static inline int qt_lines(void) { return LINES; }
static inline int qt_cols(void) { return COLS; }
static inline int qt_colors(void) { return COLORS; }
static inline int qt_color_pair(int n) { return (int)COLOR_PAIR(n); }
static inline const char *qt_codeset(void) { return nl_langinfo(CODESET); }
/* Whether the terminal has an alternate screen (terminfo smcup). tigetstr answers NULL when the
   capability is absent and (char *)-1 when it is not a string capability. */
static inline int qt_has_alternate_screen(void) {
  char *s = tigetstr("smcup");
  return s != NULL && s != (char *)-1 && s[0] != '\0';
}
#endif
