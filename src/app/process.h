/* Facts about the running process that only the apps need (the server's page folder, session
 * ids). The library's own process facts (resident memory) are in include/sam2.h. */
#ifndef SAM2_APP_PROCESS_H
#define SAM2_APP_PROCESS_H

#include <stddef.h>

/* The absolute path of the running executable into buf; 0, or -1 when it cannot be found. */
int process_executable_path(char *buf, size_t size);
/* n bytes from the system's cryptographic random source; 0, or -1 with errno set. */
int process_random_bytes(void *buf, size_t n);

#endif
