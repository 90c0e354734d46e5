"""The numbers of the compilation: filters, density, hot-spots, trends and the one weekly service."""
