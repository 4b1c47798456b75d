"""Presentation: number formatting, terminal summaries, the HTML report and its charts. Never solves."""
