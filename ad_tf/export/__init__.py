"""The served form of AD: a SavedModel whose in-context state travels in and out explicitly."""
