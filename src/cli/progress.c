#include "cli/progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define BAR_WIDTH 28

/* Seconds on the monotonic clock, which wall-clock changes do not move. */
static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void format_eta(char *buf, size_t n, double seconds) {
    if (seconds < 0 || seconds > 359999) {
        snprintf(buf, n, "--:--");
        return;
    }
    const int s = (int)(seconds + 0.5);
    if (s >= 3600)
        snprintf(buf, n, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(buf, n, "%d:%02d", s / 60, s % 60);
}

void progress_start(progress *p, const char *label, int total, int quiet) {
    p->label = label;
    p->total = total > 0 ? total : 1;
    p->done = 0;
    p->quiet = quiet;
    p->tty = isatty(STDERR_FILENO);
    p->next_decile = 1;
    p->t0 = now_seconds();
    p->last_draw = 0;
    if (!quiet && !p->tty) {
        fprintf(stderr, "%s: %d frames\n", label, total);
        fflush(stderr);
    }
}

void progress_step(progress *p) {
    p->done++;
    if (p->quiet) return;
    const double now = now_seconds(), elapsed = now - p->t0;
    const double fps = elapsed > 0 ? p->done / elapsed : 0;
    char eta[32];
    format_eta(eta, sizeof eta, fps > 0 ? (p->total - p->done) / fps : -1);
    if (p->tty) {
        if (p->done < p->total && now - p->last_draw < 0.1) return;
        p->last_draw = now;
        const int fill = (int)((double)BAR_WIDTH * p->done / p->total);
        char bar[BAR_WIDTH + 1];
        for (int i = 0; i < BAR_WIDTH; i++) bar[i] = i < fill ? '#' : '.';
        bar[BAR_WIDTH] = '\0';
        fprintf(stderr, "\r%s [%s] %d/%d frames  %.2f frames/s  ETA %s ", p->label, bar, p->done,
                p->total, fps, eta);
    } else {
        if (p->done * 10 < p->next_decile * p->total && p->done < p->total) return;
        while (p->next_decile * p->total <= p->done * 10) p->next_decile++;
        fprintf(stderr, "%s: %d/%d frames (%d%%), %.2f frames/s, ETA %s\n", p->label, p->done,
                p->total, (int)(100.0 * p->done / p->total), fps, eta);
    }
    fflush(stderr);
}

void progress_finish(progress *p, int ok) {
    if (p->quiet) return;
    const double elapsed = now_seconds() - p->t0;
    if (p->tty) fputc('\n', stderr);
    fprintf(stderr, "%s: %s %d frames in %.1f s (%.2f frames/s)\n", p->label,
            ok ? "done," : "stopped after", p->done, elapsed,
            elapsed > 0 ? p->done / elapsed : 0.0);
    fflush(stderr);
}
