/* Progress of a long loop on stderr: a bar redrawn in place (frames/s, ETA) when stderr is a
 * terminal, otherwise one plain line per 10 % of the work, so logs stay short. */
#ifndef SAM2_CLI_PROGRESS_H
#define SAM2_CLI_PROGRESS_H

typedef struct progress {
    const char *label;
    int total, done;
    int tty, quiet;
    int next_decile; /* plain mode: next 10 % step to report */
    double t0, last_draw;
} progress;

void progress_start(progress *p, const char *label, int total, int quiet);
void progress_step(progress *p);
/* Ends the bar's line (terminal) and prints the totals; `ok` 0 says the work was stopped. */
void progress_finish(progress *p, int ok);

#endif
