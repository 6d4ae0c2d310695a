/* main.c - argv to the command dispatcher; no logic here. */
#include "cli/cli.h"

int main(int argc, char **argv)
{
    return cq_cli_main(argc, argv);
}
