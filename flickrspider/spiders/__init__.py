"""The spiders: ``flickr`` (search and download) and ``flickr_download`` (from a feed)."""
