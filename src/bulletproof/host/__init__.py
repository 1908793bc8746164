"""Facts about the machine: operating system, libc, interpreters, compilers, package manager."""
