"""The API's endpoints, one router per area: meta, artists, recommendations, profiles, admin."""
