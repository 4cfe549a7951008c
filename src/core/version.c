/* sam2_version(): the CMake project's version, given to this file alone as a definition (so a
 * version change rebuilds one file). */
#include "sam2.h"

#ifndef SAM2_PROJECT_VERSION
#error "SAM2_PROJECT_VERSION must be defined (CMakeLists.txt sets it for this file)"
#endif

const char *sam2_version(void) {
    return SAM2_PROJECT_VERSION;
}
