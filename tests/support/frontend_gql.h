/* The official SAM 2 demo frontend's GraphQL documents, byte for byte as its Relay network layer
 * sends them, for the tests and tools that talk to `sam2 serve` the way the frontend does. */
#ifndef SAM2_TEST_FRONTEND_GQL_H
#define SAM2_TEST_FRONTEND_GQL_H

#define FRONTEND_START_SESSION                                                                     \
    "mutation SAM2ModelStartSessionMutation(\n  $input: StartSessionInput!\n) {\n"                 \
    "  startSession(input: $input) {\n    sessionId\n  }\n}\n"

#define FRONTEND_CLOSE_SESSION                                                                     \
    "mutation SAM2ModelCloseSessionMutation(\n  $input: CloseSessionInput!\n) {\n"                 \
    "  closeSession(input: $input) {\n    success\n  }\n}\n"

/* addPoints, clearPointsInFrame and removeObject answer with the same selection. */
#define FRONTEND_MASKS_SELECTION                                                                   \
    "    frameIndex\n    rleMaskList {\n      objectId\n      rleMask {\n        counts\n"         \
    "        size\n      }\n    }\n  }\n}\n"

#define FRONTEND_ADD_POINTS                                                                        \
    "mutation SAM2ModelAddNewPointsMutation(\n  $input: AddPointsInput!\n) {\n"                    \
    "  addPoints(input: $input) {\n" FRONTEND_MASKS_SELECTION

#define FRONTEND_CLEAR_POINTS_IN_FRAME                                                             \
    "mutation SAM2ModelClearPointsInFrameMutation(\n  $input: ClearPointsInFrameInput!\n) {\n"     \
    "  clearPointsInFrame(input: $input) {\n" FRONTEND_MASKS_SELECTION

#define FRONTEND_REMOVE_OBJECT                                                                     \
    "mutation SAM2ModelRemoveObjectMutation(\n  $input: RemoveObjectInput!\n) {\n"                 \
    "  removeObject(input: $input) {\n" FRONTEND_MASKS_SELECTION

#define FRONTEND_CANCEL_PROPAGATION                                                                \
    "mutation SAM2ModelCancelPropagateInVideoMutation(\n"                                          \
    "  $input: CancelPropagateInVideoInput!\n) {\n"                                                \
    "  cancelPropagateInVideo(input: $input) {\n    success\n  }\n}\n"

#define FRONTEND_DEMO_PAGE_QUERY                                                                   \
    "query DemoPageQuery {\n  defaultVideo {\n    path\n    posterPath\n    url\n"                 \
    "    posterUrl\n    height\n    width\n  }\n}\n"

/* The "operations" field of the frontend's multipart uploadVideo request (JSON text; the file
 * itself is mapped to variables.file). */
#define FRONTEND_UPLOAD_OPERATIONS                                                                 \
    "{\"query\":\"mutation useUploadVideoMutation(\\n  $file: Upload!\\n) {\\n"                    \
    "  uploadVideo(file: $file) {\\n    id\\n    height\\n    width\\n    url\\n    path\\n"       \
    "    posterPath\\n    posterUrl\\n  }\\n}\\n\",\"variables\":{\"file\":{}}}"

#endif
