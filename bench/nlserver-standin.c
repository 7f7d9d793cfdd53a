/*
 * The cost bench's stand-in `nlserver` (bench/daemon-cost.mjs compiles it with cc; test/sim/host.ts
 * installs the binary as <installDir>/bin/nlserver when SimOptions.nlserverStandin is set).
 *
 * A server's nlserver is native code; test/sim's stand-in is a Node script (~60 ms of CPU a run) or a
 * bash client (~5 ms): either would hide what the agent itself pays for a child process. This one
 * costs a fork's worth: it appends one byte to <exe>-answers/count (O_APPEND: concurrent runs never
 * lose a count; the file's size is the number of runs), then answers
 *
 *   nlserver pdump              from <exe>-answers/pdump
 *   nlserver pdump -who         from <exe>-answers/pdump-who
 *   nlserver monitor -missing   from <exe>-answers/monitor-missing
 *
 * files that the simulated host renders with test/sim/nlserver-cli.cjs's own formatting and keeps
 * current (nlserver-cli.cjs answers()). Any other command, or an answer file that is absent (the host
 * removes them when control.json asks for a hang, garbage, a failure or a delay), is run by the Node
 * CLI: exec of <exe>-answers/fallback with the same arguments. <exe> is this binary's own path
 * (/proc/self/exe), so one compiled file serves any number of simulated hosts.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int path_in(char *out, size_t size, const char *dir, const char *name) {
  int n = snprintf(out, size, "%s/%s", dir, name);
  return n > 0 && (size_t)n < size;
}

int main(int argc, char **argv) {
  char exe[PATH_MAX];
  ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (len <= 0) {
    fputs("nlserver stand-in: cannot read /proc/self/exe\n", stderr);
    return 2;
  }
  exe[len] = '\0';
  char dir[PATH_MAX];
  if (snprintf(dir, sizeof dir, "%s-answers", exe) >= (int)sizeof dir) return 2;

  char file[PATH_MAX];
  if (path_in(file, sizeof file, dir, "count")) {
    int fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) {
      (void)!write(fd, ".", 1);
      close(fd);
    }
  }

  const char *answer = NULL;
  if (argc == 2 && strcmp(argv[1], "pdump") == 0) answer = "pdump";
  else if (argc == 3 && strcmp(argv[1], "pdump") == 0 && strcmp(argv[2], "-who") == 0) answer = "pdump-who";
  else if (argc == 3 && strcmp(argv[1], "monitor") == 0 && strcmp(argv[2], "-missing") == 0) answer = "monitor-missing";

  if (answer && path_in(file, sizeof file, dir, answer)) {
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      char buffer[65536];
      ssize_t got;
      while ((got = read(fd, buffer, sizeof buffer)) > 0) {
        for (ssize_t done = 0; done < got;) {
          ssize_t put = write(STDOUT_FILENO, buffer + done, (size_t)(got - done));
          if (put <= 0) return 1;
          done += put;
        }
      }
      close(fd);
      return got < 0 ? 1 : 0;
    }
  }

  if (!path_in(file, sizeof file, dir, "fallback")) return 2;
  argv[0] = file;
  execv(file, argv);
  fprintf(stderr, "nlserver stand-in: cannot run %s\n", file);
  return 2;
}
