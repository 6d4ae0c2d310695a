/*
 * cli.h - the command-line interface: `clariq <command> ...`.
 *
 * Each command group lives in its own file (cmd_run.c, cmd_connections.c, cmd_init.c,
 * cmd_demo.c) and is listed in the command table of cli.c. Commands print results to
 * stdout and diagnostics to stderr, and return one of the documented exit codes.
 */
#ifndef CQ_CLI_CLI_H
#define CQ_CLI_CLI_H

/* Documented exit codes (README "Exit codes"). */
enum cq_exit {
    CQ_EXIT_OK = 0,
    CQ_EXIT_SQL = 1,        /* the database rejected the statement */
    CQ_EXIT_USAGE = 2,      /* bad command line or configuration */
    CQ_EXIT_CONNECT = 3,    /* could not connect (or connection lost) */
    CQ_EXIT_TIMEOUT = 4,    /* statement timeout or pool exhausted */
    CQ_EXIT_TRUNCATED = 5,  /* result truncated, only with --fail-on-truncate */
};

int cq_cli_main(int argc, char **argv);

#endif
