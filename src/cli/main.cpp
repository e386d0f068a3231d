// herald: the command-line entry point (serve, worker, sandbox, demo, migrate, keys).
int main() { return 0; }
