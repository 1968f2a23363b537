"""Subscriptions to public accounts and the feed merged from them (DESIGN §5).

``service`` subscribes and unsubscribes, and switches live notifications (the
feed channels of kabar.delivery) on and off; ``feed`` pages the merged feed.
"""
