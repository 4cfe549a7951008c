/* FFmpeg glue shared by the video reader, writer and ingest: quiet logging, error text, and
 * byte sources read through our own AVIOContext.
 *
 * Inputs are never handed to FFmpeg as URLs: a file is opened by us and read through callbacks,
 * and the demuxer may not open anything else (io_open refuses), so a playlist or concat file
 * cannot make FFmpeg read other files or the network. */
#ifndef SAM2_IO_AV_GLUE_H
#define SAM2_IO_AV_GLUE_H

#include "sam2.h"

#include <libavformat/avformat.h>
#include <stdint.h>
#include <stdio.h>

/* Once per process: FFmpeg's log level from $SAM2_FFMPEG_LOGLEVEL ("quiet" by default; also
 * "error", "warning", "info", "verbose", "debug" or a number). libav* would otherwise print
 * every decoding complaint about a damaged file on stderr. */
void av_glue_init(void);

/* FFmpeg error code as text ("Invalid data found when processing input"). */
const char *av_glue_errstr(int averr, char *buf, size_t n);

/* Where the bytes come from: a file we opened, read through callbacks so that FFmpeg never
 * opens anything by URL. */
typedef struct av_source {
    FILE *file;
    int64_t file_size;
    char name[256]; /* for messages: the path */
} av_source;

/* Opens a regular file; refuses directories, devices and empty files. */
int av_source_open_file(av_source *s, const char *path, sam2_error *err);
void av_source_close(av_source *s);

typedef struct av_demux_limits {
    const char *format_whitelist; /* NULL: any demuxer */
    int64_t probesize;            /* 0: FFmpeg's default */
    int64_t analyzeduration;      /* microseconds, 0: default */
} av_demux_limits;

/* Opens a demuxer on a fresh AVIOContext over the source (rewound to its start) and reads
 * the stream parameters. On failure *fc is NULL and err names the source. */
int av_glue_open_demuxer(av_source *s, const av_demux_limits *lim, AVFormatContext **fc,
                         sam2_error *err);
/* Closes a demuxer opened by av_glue_open_demuxer, with its AVIOContext. */
void av_glue_close_demuxer(AVFormatContext **fc);

#endif
