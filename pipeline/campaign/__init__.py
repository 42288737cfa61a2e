"""Campaigns: the job graph, batch runs, executors, watching folders and the campaign report."""
