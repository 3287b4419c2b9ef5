"""Agreed actions: creating them in the workspace, following them up, the lists, and the seam
that brings children with open actions back on the next agendas."""
