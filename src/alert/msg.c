/* msg.c - placeholder until the message module lands (keeps the alert library non-empty). */
#include "alert/msg.h"
