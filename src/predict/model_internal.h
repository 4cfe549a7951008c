/* The public sam2_model: the network plus whatever owns its weight memory. */
#ifndef SAM2_PREDICT_MODEL_INTERNAL_H
#define SAM2_PREDICT_MODEL_INTERNAL_H

#include "model/net.h"
#include "sam2.h"

struct sam2_model {
    sam2_net net;
    int64_t params;
    void *weights_owner; /* checkpoint mapping / converted weights */
    void (*free_owner)(void *owner);
};

#endif
