"""Domain errors of datasets, answered in OpenAI's error shape by config.exceptions."""

from conversations.exceptions import ConversationError


class DatasetInvalid(ConversationError):
    default_code = "invalid_dataset"
    default_message = "The dataset could not be read."
